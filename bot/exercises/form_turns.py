"""Reading a form's turn from the tracker's events (plain dicts, as rasa-sdk receives them).

Our validators answer a bad answer with a hint that already says what to do (with buttons when
there are some). The form then asks the same slot again; repeating the full question right
under the hint reads like the bot wasn't listening, so the ask actions stay quiet in that case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

REQUESTED_SLOT = "requested_slot"
ACTION_LISTEN = "action_listen"


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
