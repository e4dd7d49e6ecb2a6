"""Erasure inside a conversation: Rasa re-saves the session it holds unless the store stops it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.journal import db
from bot.journal import repository as repo
from bot.journal.db import session_scope

SENDER = "erase-me-3391"


def _store(endpoint: dict):
    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import EndpointConfig

    return create_tracker_store(EndpointConfig.from_dict(endpoint))


def _turn_with_erasure(url: str, store, conversation, erase_action: str) -> int:
    """Rasa's order within one turn: the action erases, then Rasa saves the tracker it holds."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker.from_events(SENDER, conversation("my private words"))
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
    from rasa.shared.core.trackers import DialogueStateTracker
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
        asyncio.run(store.save(DialogueStateTracker.from_events("keeps", conversation("hi"))))
        with session_scope(journal_url) as session:
            kept = repo.export_user(session, "rest", "keeps")["conversation_events"]
        assert len(kept) == len(conversation("hi"))
        assert _turn_with_erasure(journal_url, store, conversation, "action_forget_me") == 0
    finally:
        store.engine.dispose()
