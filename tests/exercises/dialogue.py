"""Helpers for the exercise action tests: real Rasa trackers, the real domain, a real journal.

Trackers are built the way Rasa builds them (``DialogueStateTracker`` from events, with the
domain's slots) and handed to actions as the action server receives them (the tracker state as
a dict). The journal is a migrated SQLite file in the test's temporary directory.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.journal import db

REPO_ROOT = Path(__file__).resolve().parents[2]
SENDER = "user-1"
CHANNEL = "rest"


@functools.lru_cache(maxsize=1)
def domain() -> Any:
    """The project's domain, merged from domain/ as Rasa loads it."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(REPO_ROOT / "domain"))


def domain_dict() -> dict[str, Any]:
    """The domain as the action server receives it."""
    return domain().as_dict()


def user(
    text: str,
    intent: str = "give_answer",
    entities: Sequence[dict[str, Any]] = (),
    channel: str = CHANNEL,
) -> Any:
    from rasa.shared.core.events import UserUttered

    return UserUttered(
        text,
        intent={"name": intent, "confidence": 1.0},
        entities=list(entities),
        input_channel=channel,
    )


def sdk_tracker(events: Sequence[Any], sender_id: str = SENDER) -> Any:
    """A rasa-sdk Tracker holding ``events``, exactly as Rasa would send it to an action."""
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa_sdk import Tracker

    tracker = DialogueStateTracker.from_events(
        sender_id, [ActionExecuted("action_listen"), *events], slots=domain().slots
    )
    return Tracker.from_dict(tracker.current_state(EventVerbosity.ALL))


def form_answer(
    form: str,
    requested: str,
    text: str,
    slots: dict[str, Any] | None = None,
    candidate: Any = None,
    intent: str = "give_answer",
    sender_id: str = SENDER,
) -> Any:
    """The tracker a form's validator sees when the user answers ``requested``.

    ``slots`` were filled earlier in the form; ``candidate`` (default: the text) is what slot
    extraction took from the message, appended last as Rasa does before validation.
    """
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet

    earlier = [SlotSet(name, value) for name, value in (slots or {}).items()]
    return sdk_tracker(
        [
            ActionExecuted(form),
            ActiveLoop(form),
            *earlier,
            SlotSet("requested_slot", requested),
            ActionExecuted("action_listen"),
            user(text, intent),
            SlotSet(requested, text if candidate is None else candidate),
        ],
        sender_id,
    )


def slot_values(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The slots an action set, as {name: value} (the last value wins)."""
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def texts(dispatcher: Any) -> list[str]:
    return [message.get("text") or "" for message in dispatcher.messages]


def buttons(dispatcher: Any) -> list[dict[str, Any]]:
    return [button for message in dispatcher.messages for button in message.get("buttons") or []]


def migrated_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated journal in a temporary SQLite file, used by the actions via DATABASE_URL.

    Test modules wrap this in a fixture (``yield from``): fixtures imported from another module
    would be flagged by ruff as redefinitions.
    """
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", "exercise-tests-secret")
    db.upgrade(url)
    yield url
    db.dispose_engines()


def journal_without_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database the journal cannot use (no migrations run): actions must carry on."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", "exercise-tests-secret")
    yield url
    db.dispose_engines()
