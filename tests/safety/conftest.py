"""Fixtures for the safety tests: migrated databases for the crisis counter and its report.
The real detector they share with the NLU tests is ``detector`` in ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.journal import db


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
