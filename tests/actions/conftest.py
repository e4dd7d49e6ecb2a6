"""Fixtures for the action tests; the migrated journal (``journal_db``) is in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.exercises.dialogue import journal_without_tables


@pytest.fixture
def unreachable_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database file without the journal's tables: every journal call is 'unavailable'."""
    yield from journal_without_tables(tmp_path, monkeypatch)
