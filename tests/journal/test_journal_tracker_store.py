"""Erasure inside a conversation: Rasa re-saves the session it holds unless the store stops it."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.journal import db
from bot.journal import repository as repo
from bot.journal.db import session_scope
from tests.builders import rasa_tracker

SENDER = "erase-me-3391"


def _store(endpoint: dict):
    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import EndpointConfig

    return create_tracker_store(EndpointConfig.from_dict(endpoint))


def _turn_with_erasure(url: str, store, conversation, erase_action: str) -> int:
    """Rasa's order within one turn: the action erases, then Rasa saves the tracker it holds."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    tracker = rasa_tracker(*conversation("my private words"), sender_id=SENDER, listening=False)
    asyncio.run(store.save(tracker))
    tracker.update(UserUttered("please delete everything", intent={"name": "delete_my_data"}))
    with session_scope(url) as session:
        repo.delete_user(session, "rest", SENDER)
    for event in (
        ActionExecuted(erase_action),
        BotUttered("Done."),
        ActionExecuted("action_listen"),
    ):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    with session_scope(url) as session:
        return len(repo.export_user(session, "rest", SENDER)["conversation_events"])


def test_plain_sql_store_brings_the_erased_session_back(journal_url: str, conversation) -> None:
    """Why the subclass exists: with Rasa's own store the erasure is undone at once."""
    store = _store(db.rasa_tracker_store_config(journal_url))
    try:
        assert _turn_with_erasure(journal_url, store, conversation, "action_delete_my_data") > 0
    finally:
        store.engine.dispose()


def test_erasing_store_keeps_nothing_after_an_erase_action(journal_url: str, conversation) -> None:
    store = _store(db.rasa_tracker_store_config(journal_url, erasing=True))
    try:
        assert type(store).__name__ == "ErasingSQLTrackerStore"
        assert _turn_with_erasure(journal_url, store, conversation, "action_delete_my_data") == 0
    finally:
        store.engine.dispose()


def test_erasing_store_saves_ordinary_turns_and_reads_its_setting(
    journal_url: str, conversation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        "tracker_store:\n"
        "  type: bot.journal.tracker_store.ErasingSQLTrackerStore\n"
        "  url: ${DATABASE_URL}\n"
        "  erase_actions: [action_forget_me]\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(db.DATABASE_URL_ENV, journal_url)
    config = read_endpoint_config(str(endpoints), "tracker_store")
    store = _store({"type": config.type, "url": config.url, **config.kwargs})
    try:
        assert store.erase_actions == frozenset({"action_forget_me"})
        asyncio.run(
            store.save(rasa_tracker(*conversation("hi"), sender_id="keeps", listening=False))
        )
        with session_scope(journal_url) as session:
            kept = repo.export_user(session, "rest", "keeps")["conversation_events"]
        assert len(kept) == len(conversation("hi"))
        assert _turn_with_erasure(journal_url, store, conversation, "action_forget_me") == 0
    finally:
        store.engine.dispose()


# --- A database outage: say so instead of answering from a fresh, unsaved conversation ----------

OUTAGE_SENDER = "outage-sender-5d21"


def _take_the_database_away(url: str) -> None:
    """A real outage for each backend: the PostgreSQL database is dropped (its connections
    ended), the SQLite file is replaced by a directory (it cannot be opened any more)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.unlink()
        path.mkdir()
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{parsed.database}" WITH (FORCE)')
    finally:
        admin.dispose()


def test_store_outage_is_not_swallowed_by_rasas_fail_safe_wrapper(
    journal_url: str, conversation, caplog: pytest.LogCaptureFixture
) -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.events import UserUttered

    from bot.journal.tracker_store import TrackerStoreUnavailable

    store = _store(db.rasa_tracker_store_config(journal_url, erasing=True))
    wrapped = FailSafeTrackerStore(store)
    tracker = rasa_tracker(*conversation("seq 1: before"), sender_id=OUTAGE_SENDER, listening=False)
    try:
        asyncio.run(wrapped.save(tracker))
        assert asyncio.run(wrapped.retrieve_full_tracker(OUTAGE_SENDER)) is not None
        db.dispose_engines(journal_url)
        _take_the_database_away(journal_url)
        # A pooled SQLite connection keeps reading the deleted file; new ones cannot open it.
        store.engine.dispose()
        caplog.set_level(logging.DEBUG)
        # Rasa's wrapper would answer None ("new conversation") and keep the save in memory.
        with pytest.raises(TrackerStoreUnavailable):
            asyncio.run(wrapped.retrieve_full_tracker(OUTAGE_SENDER))
        with pytest.raises(TrackerStoreUnavailable):
            asyncio.run(wrapped.retrieve(OUTAGE_SENDER))
        tracker.update(UserUttered("seq 2: my private words during the outage"))
        with pytest.raises(TrackerStoreUnavailable):
            asyncio.run(wrapped.save(tracker))
        assert list(asyncio.run(wrapped.fallback_tracker_store.keys())) == []
    finally:
        store.engine.dispose()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "unavailable" in logged
    assert OUTAGE_SENDER not in logged and "private words" not in logged


def test_sql_errors_that_rasa_logs_carry_no_sender_id_or_text(
    journal_url: str, conversation, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken table is not an outage: Rasa's wrapper logs the error, without bound values."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.journal.tracker_store import TrackerStoreUnavailable

    store = _store(db.rasa_tracker_store_config(journal_url, erasing=True))
    wrapped = FailSafeTrackerStore(store)
    try:
        with store.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE events")
        caplog.set_level(logging.DEBUG)
        tracker = rasa_tracker(
            *conversation("my secret words"), sender_id=OUTAGE_SENDER, listening=False
        )
        for operation in (wrapped.retrieve(OUTAGE_SENDER), wrapped.save(tracker)):
            try:  # SQLite calls a missing table an OperationalError, PostgreSQL does not
                asyncio.run(operation)
            except TrackerStoreUnavailable:
                pass
    finally:
        store.engine.dispose()
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    assert "events" in logged, "the failure was logged"
    assert OUTAGE_SENDER not in logged and "secret words" not in logged


def test_sqlite_store_writes_ahead_and_reuses_its_connection(sqlite_url: str, conversation) -> None:

    db.upgrade(sqlite_url)
    store = _store(db.rasa_tracker_store_config(sqlite_url, erasing=True))
    try:
        for n in range(3):
            tracker = rasa_tracker(
                *conversation(f"seq {n}: hi"), sender_id=f"wal-{n}", listening=False
            )
            asyncio.run(store.save(tracker))
        assert asyncio.run(store.retrieve("wal-2")) is not None
        with store.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = connection.exec_driver_sql("PRAGMA synchronous").scalar()
        assert (mode, sync) == ("wal", 1)  # 1 = NORMAL
        assert store.engine.pool.checkedin() == 1, "one connection, reused"
    finally:
        store.engine.dispose()
        db.dispose_engines(sqlite_url)


# --- A progress picture is sent once, never kept in the log -----------------------------------


def test_a_picture_is_not_kept_in_the_log_only_its_summary(journal_url: str, conversation) -> None:
    """The progress pictures travel as data URLs with a description (actions/progress.py):
    the log keeps the summary line and a placeholder, neither the image nor its description."""
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.events import ActionExecuted

    from bot.journal.tracker_store import PICTURE_PLACEHOLDER

    # The picture comes after the conversation, in time too.
    before = conversation("show my progress", start=time.time() - 60)
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    sent = create_bot_utterance(
        {"text": "Across your last 2 pauses, the feeling eased.", "image": png, "alt": "2 Nov: 8"}
    )
    assert sent.data["image"] == png and sent.metadata["alt"] == "2 Nov: 8"  # as Rasa builds it
    tracker = rasa_tracker(
        *before,
        ActionExecuted("action_show_progress"),
        sent,
        sender_id="pictures",
        listening=False,
    )
    store = _store(db.rasa_tracker_store_config(journal_url, erasing=True))
    try:
        asyncio.run(store.save(tracker))
        with store.engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT data FROM events WHERE sender_id = 'pictures'"
            ).scalars()
            logged = "\n".join(rows)
        kept = asyncio.run(store.retrieve("pictures"))
    finally:
        store.engine.dispose()
    assert "data:image" not in logged and "iVBORw0KGgo" not in logged
    assert "2 Nov: 8" not in logged
    [bot] = [e for e in kept.events if getattr(e, "text", "") and "eased" in e.text]
    assert bot.data["custom"] == PICTURE_PLACEHOLDER
    assert not bot.data.get("image") and not bot.data.get("attachment")
