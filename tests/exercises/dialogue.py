"""Helpers for the exercise action tests: real Rasa trackers, the real domain, a real journal.

Trackers are built the way Rasa builds them (``DialogueStateTracker`` from events, with the
domain's slots) and handed to actions as the action server receives them (the tracker state as
a dict). The journal is a migrated SQLite file in the test's temporary directory: ``journal_db``
in tests/conftest.py.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot import sender_ids
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
    """A rasa-sdk Tracker holding ``events``, exactly as Rasa would send it to an action.

    ``sender_id`` is the bare id; Rasa's carries the channel's prefix (``rest:user-1``).
    """
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
    from rasa_sdk import Tracker

    tracker = DialogueStateTracker.from_events(
        sender_ids.with_channel(CHANNEL, sender_id),
        [ActionExecuted("action_listen"), *events],
        slots=domain().slots,
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


async def validate_answer(
    validator: type[Any],
    form: str,
    requested: str,
    text: str,
    slots: dict[str, Any] | None = None,
    candidate: Any = None,
) -> tuple[dict[str, Any], Any]:
    """A ``validator`` (the class) run on the user's answer to ``requested`` (see
    ``form_answer``): the slots it set and the dispatcher holding what it said."""
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = form_answer(form, requested, text, slots, candidate)
    events = await validator().run(dispatcher, tracker, domain_dict())
    return slot_values(events), dispatcher


def run_action(
    action: Any, slots: dict[str, Any], text: str = "ok", intent: str = "give_answer"
) -> tuple[list[dict[str, Any]], Any]:
    """``action`` run on the slots set earlier and the user's latest ``text``: its events and the
    dispatcher holding what it said."""
    from rasa.shared.core.events import SlotSet
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    tracker = sdk_tracker([*(SlotSet(k, v) for k, v in slots.items()), user(text, intent)])
    return action.run(dispatcher, tracker, domain_dict()), dispatcher


def slot_values(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The slots an action set, as {name: value} (the last value wins)."""
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def texts(dispatcher: Any) -> list[str]:
    return [message.get("text") or "" for message in dispatcher.messages]


def buttons(dispatcher: Any) -> list[dict[str, Any]]:
    return [button for message in dispatcher.messages for button in message.get("buttons") or []]


def journal_without_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database the journal cannot use (no migrations run): actions must carry on."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", "exercise-tests-pseudonym-key-0123456789")
    yield url
    db.dispose_engines()
