"""Helpers for form action tests on hand-built rasa-sdk trackers: the tracker a validator or an
ask action sees, the texts the bot sent, one validator run.

(tests/exercises/dialogue.py builds trackers from Rasa's own events instead; these are lighter
and enough where only the latest turn and the slots matter.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.conftest import channel_sender_id


def form_tracker(
    sender_id: str,
    channel: str,
    active_loop: str | None,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "nlu_fallback",
    requested: str | None = None,
    entities: list[dict] | None = None,
    events: Sequence[dict] = (),
) -> Tracker:
    """The user has just said ``text`` on ``channel``; ``events`` came after that message.

    The tracker's sender id carries the channel's prefix, as Rasa hands it over.
    """
    return Tracker(
        sender_id=channel_sender_id(sender_id, channel),
        slots={"requested_slot": requested, **(slots or {})},
        latest_message={"text": text, "intent": {"name": intent}, "entities": entities or []},
        events=[{"event": "user", "text": text, "input_channel": channel}, *events],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def texts_of(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["text"] for message in dispatcher.messages if message.get("text")]


def run_validator(
    validator: FormValidationAction, slot: str, value: Any, tracker: Tracker
) -> tuple[dict, CollectingDispatcher]:
    """``validate_<slot>`` of ``validator`` on ``value``: its result and what it said."""
    dispatcher = CollectingDispatcher()
    result = getattr(validator, f"validate_{slot}")(value, dispatcher, tracker, {})
    return result, dispatcher


def validate_answer(
    validator: FormValidationAction,
    tracker: Callable[..., Tracker],
    slot: str,
    value: Any,
    **turn: Any,
) -> tuple[dict, CollectingDispatcher]:
    """:func:`run_validator` on ``value`` as the answer to the question of ``slot``, on the
    tracker ``tracker(requested=slot, **turn)`` (the text typed is ``str(value)`` unless given)."""
    turn.setdefault("text", str(value))
    return run_validator(validator, slot, value, tracker(requested=slot, **turn))


def run_action(action: Any, tracker: Tracker) -> tuple[list, CollectingDispatcher]:
    """``action`` run on ``tracker``: its events and what it said."""
    dispatcher = CollectingDispatcher()
    return action.run(dispatcher, tracker, {}), dispatcher
