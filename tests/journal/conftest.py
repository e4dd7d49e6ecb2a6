"""Journal fixtures: a migrated database on each backend and Rasa's own tracker store on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.journal import db
from bot.journal.identity import ID_SECRET_ENV
from tests.builders import rasa_tracker


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test may touch the repository's var/ (its database or its pseudonym secret)."""
    monkeypatch.setenv(ID_SECRET_ENV, "journal-tests-pseudonym-key-0123456789")
    monkeypatch.setenv(db.DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'default.db'}")
    monkeypatch.delenv("SECURE_BASE_RETENTION_DAYS", raising=False)
    yield
    db.dispose_engines()


@pytest.fixture
def journal_url(db_url: str) -> Iterator[str]:
    """A database upgraded to the latest journal schema."""
    db.upgrade(db_url)
    yield db_url
    db.dispose_engines(db_url)


SaveTracker = Callable[[str, Sequence[Any]], None]


@pytest.fixture
def save_tracker(journal_url: str) -> Iterator[SaveTracker]:
    """Store a conversation with Rasa's SQLTrackerStore, configured as endpoints.yml would be.

    The ``events`` table is then truly Rasa's (its schema, its writes), in the journal's database.
    """
    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import EndpointConfig

    store = create_tracker_store(
        EndpointConfig.from_dict(db.rasa_tracker_store_config(journal_url))
    )

    def save(sender_id: str, events: Sequence[Any]) -> None:
        tracker = rasa_tracker(*events, sender_id=sender_id, listening=False)
        asyncio.run(store.save(tracker))

    yield save
    store.engine.dispose()


def _conversation(
    text: str, bot_text: str = "Thank you for sharing that.", start: float | None = None
) -> list[Any]:
    """A short real conversation whose user message is ``text``, from ``start`` (Unix time)."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered

    begin = time.time() if start is None else start
    stamps = [begin + step for step in range(7)]
    return [
        ActionExecuted("action_session_start", timestamp=stamps[0]),
        SessionStarted(timestamp=stamps[1]),
        ActionExecuted("action_listen", timestamp=stamps[2]),
        UserUttered(
            text, intent={"name": "share_reflection", "confidence": 0.93}, timestamp=stamps[3]
        ),
        ActionExecuted("utter_thanks", timestamp=stamps[4]),
        BotUttered(bot_text, timestamp=stamps[5]),
        ActionExecuted("action_listen", timestamp=stamps[6]),
    ]


def _all_rows_text(url: str) -> str:
    """Every row of every table in the database, as one string to search for leftovers."""
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            return "\n".join(
                repr(tuple(row))
                for table in metadata.sorted_tables
                for row in connection.execute(sa.select(table))
            )
    finally:
        engine.dispose()


@pytest.fixture
def conversation() -> Callable[..., list[Any]]:
    """Build a short real Rasa conversation around one user message."""
    return _conversation


@pytest.fixture
def all_rows_text() -> Callable[[str], str]:
    """Dump every row of every table of a database, to search it for leftovers."""
    return _all_rows_text
