"""Reading one turn of a form: the latest message, its payload, and the tracker's events
(plain dicts, as rasa-sdk receives them); building the buttons a form offers.

A rejected answer is answered with a hint that says what to do, with the question's buttons
(:meth:`bot.dialogue.forms.Answer.hint`). The form then asks the same slot again;
repeating the full question right under the hint reads as if the bot wasn't listening, so the
ask actions stay quiet in that case (:func:`hint_already_given`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

REQUESTED_SLOT = "requested_slot"
PAUSED_SLOT = "paused_exercise"
ACTION_LISTEN = "action_listen"
# The intent of the answer buttons (``answer_button``): the answer is its ``answer`` entity.
ANSWER_INTENT = "give_answer"
# The static crisis answer; a form's crisis rule follows it with action_deactivate_loop.
CRISIS_ANSWER = "utter_crisis_resources"
DEACTIVATE = "action_deactivate_loop"


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def answer_text(value: Any) -> str | None:
    """The answer a slot candidate holds, or None for a stray payload or a non-text value."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    # A menu button pressed mid-form arrives as "/start_...": it is not an answer to the question.
    if not text or text.startswith("/"):
        return None
    return text


def payload(intent: str, **entities: str) -> str:
    """A button payload; Rasa reads the JSON object after the intent as entities."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(entities, separators=(",", ":"))


def answer_button(title: str, answer: str) -> dict[str, str]:
    """A button that sends ``answer`` as the ``answer`` entity of ``give_answer``."""
    return {"title": title, "payload": f"/{ANSWER_INTENT}{json.dumps({'answer': answer})}"}


def fresh_start_events(tracker: Tracker, form: str, slots: Iterable[str]) -> list[EventType]:
    """Clear an exercise's slots, and forget it was paused: starting again starts fresh."""
    events: list[EventType] = [SlotSet(slot, None) for slot in slots]
    if tracker.get_slot(PAUSED_SLOT) == form:
        events.append(SlotSet(PAUSED_SLOT, None))
    return events


def crisis_stopped_form(events: Iterable[Mapping[str, Any]]) -> str | None:
    """The form a crisis answer stopped, when no form has run since: "let's continue" goes on
    with it, its answers kept.

    The crisis rules need no action server, so they cannot say the form was paused; the
    events can. A crisis answer, then ``action_deactivate_loop``, then the loop set to None
    means the form that was active then was stopped by the crisis. Any form that becomes
    active later, a new session or a restart forgets it.
    """
    active: str | None = None
    stopped: str | None = None
    actions: list[str | None] = [None, None]
    for event in events:
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            active = stopped = None
        elif kind == "action":
            actions = [actions[1], event.get("name")]
        elif kind == "active_loop":
            name = event.get("name")
            if name:
                active, stopped = name, None
            else:
                if active and actions == [CRISIS_ANSWER, DEACTIVATE]:
                    stopped = active
                active = None
    return stopped


def asked_again_after_answer(events: Sequence[Mapping[str, Any]], slot: str) -> bool:
    """True when the form is re-asking ``slot`` because it just rejected an answer to it.

    Rasa runs a form's ask action on a copy of the tracker that ends with
    ``SlotSet(requested_slot, <slot asked before>)``, ``ActionExecuted(<form>)`` and the events
    of this run. A rejected answer shows as: the action before that form run is
    ``action_listen`` (a user message came in) and the slot asked before is ``slot``. After a
    "why?", a resume or an edit, the action before is ours, so the question is asked in full.
    """
    actions = [index for index, event in enumerate(events) if event.get("event") == "action"]
    if len(actions) < 2:
        return False
    form_run, before = actions[-1], actions[-2]
    if events[before].get("name") != ACTION_LISTEN:
        return False
    asked = None
    for event in events[:form_run]:
        if event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            asked = event.get("value")
    return asked == slot


def hint_already_given(events: Sequence[Mapping[str, Any]], slot: str) -> bool:
    """True when the form re-asks ``slot`` and its validation has just said what to do.

    The validator's messages are part of the form run's events, after ``ActionExecuted(<form>)``.
    An answer that was not really one ("let's continue") is refused without a word, so the
    question is asked again in full.
    """
    if not asked_again_after_answer(events, slot):
        return False
    actions = [index for index, event in enumerate(events) if event.get("event") == "action"]
    return any(event.get("event") == "bot" for event in events[actions[-1] + 1 :])


def is_other_payload(text: str | None, intent: str | None, allowed: frozenset[str]) -> bool:
    """True for a button payload of another intent ("/start_roleplay") typed into a form.

    A menu button tapped mid-exercise is not an answer, and storing "/start_roleplay" as the
    user's feelings would be nonsense.
    """
    return bool(text) and text.lstrip().startswith("/") and intent not in allowed
