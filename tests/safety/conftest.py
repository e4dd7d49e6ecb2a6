"""Fixtures for the safety tests: one real detector (the reviewed patterns, the shared spaCy
pipeline), loaded once per session because compiling the patterns takes a few seconds; and
migrated databases for the crisis counter and its report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.journal import db
from bot.safety.detector import CrisisDetector


@pytest.fixture(scope="session")
def detector() -> CrisisDetector:
    """The detector over the reviewed pattern files (read-only: safe to share)."""
    loaded = CrisisDetector()
    loaded.load()
    return loaded


@pytest.fixture
def counts_db(db_url: str) -> Iterator[str]:
    """A migrated database on each backend (the table belongs to the journal's migrations)."""
    db.upgrade(db_url)
    yield db_url
    db.dispose_engines(db_url)


@pytest.fixture
def counts_sqlite(sqlite_url: str) -> Iterator[str]:
    db.upgrade(sqlite_url)
    yield sqlite_url
    db.dispose_engines(sqlite_url)
