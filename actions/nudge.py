"""Lean on people, not on the bot (issue 19): the reminder, and turning it off and on.

When it is due is ``bot.exercises.nudge``'s business (a long sitting, or most days of a week;
at most once a week; never once turned off); its words are in ``data/nudge/texts.yml``. Here
is *where* it is said: by the actions that end an exercise and by the greeting's last action
(``OffersNudge``), so it comes only when an exercise has just ended or the user is at the menu,
after what the action said. Never in the middle of an exercise (an active form), never on a
crisis turn (the crisis intents, or a crisis answer in this turn).

The times come from Rasa's conversation log (when the user wrote; no text is read) and the
choice and last reminder from the journal's ``nudges`` table, kept without the journal consent
(like the AI notice's times): it is how the bot behaves, not an exercise answer. A reminder
that cannot be checked (the journal out of reach) is simply not shown.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from bot import dialogue as kit
from bot import sender_ids
from bot.dialogue.turns import ACTION_LISTEN, latest_intent, payload
from bot.exercises import nudge
from bot.journal import repository, session_scope, tracker_events

logger = logging.getLogger(__name__)

NUDGE = kit.Skill("nudge", nudge.texts)
STOP_INTENT = "stop_nudges"
ALLOW_INTENT = "allow_nudges"
# The turns the crisis path answers: the crisis intents, the check-in's and the safety
# question's answers. The policies answer most of them whatever the intent; these are the ones
# an ending exercise or the menu could still meet.
CRISIS_INTENTS = frozenset(
    {"crisis", "crisis_check_in", "check_in_yes", "check_in_no", "confirm_safe", "deny_safe"}
)
CRISIS_RESPONSE_PREFIX = "utter_crisis"


def _this_turn_actions(tracker: Tracker) -> list[str]:
    """The actions run since the latest user message."""
    names: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "action" and event.get("name") != ACTION_LISTEN:
            names.append(str(event.get("name")))
    return names


def crisis_turn(tracker: Tracker) -> bool:
    """Whether the crisis path answered (or is answering) this turn."""
    if latest_intent(tracker) in CRISIS_INTENTS:
        return True
    return any(name.startswith(CRISIS_RESPONSE_PREFIX) for name in _this_turn_actions(tracker))


def may_nudge_here(tracker: Tracker) -> bool:
    """Not in the middle of an exercise, not on a crisis turn."""
    return not tracker.active_loop_name and not crisis_turn(tracker)


def nudge_buttons() -> list[dict[str, str]]:
    texts = nudge.texts()
    return [
        texts.button("script", payload("start_boundary_script")),
        texts.button("practise", payload("start_roleplay")),
        texts.button("stop", payload(STOP_INTENT)),
    ]


def channel_of(tracker: Tracker) -> str:
    """As ``actions.journal.channel_of`` names it (that module uses this one: its greeting
    offers the reminder, so this module cannot import it at load)."""
    return sender_ids.channel_of(tracker.sender_id) or "unknown"


def _due_and_recorded(session: Session, channel: str, sender_id: str) -> str | None:
    """Why the reminder is due now (recording it as shown), or None."""
    at = nudge.now()
    row = repository.nudge_of(session, channel, sender_id)
    record = (
        nudge.NudgeRecord(bool(row.reminders_off), row.last_nudge_at) if row is not None else None
    )
    if record is not None and record.reminders_off:
        return None  # nothing else is read for someone who turned it off
    times = tracker_events.user_message_times(session, sender_id, at - nudge.LOOK_BACK)
    reason = nudge.nudge_due(times, at, record)
    if reason is not None:
        repository.record_nudge(session, channel, sender_id, last_nudge_at=at, now=at)
    return reason


def offer_nudge(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Say the reminder when it is due and this is a place for it; otherwise nothing."""
    if not may_nudge_here(tracker):
        return []
    try:
        with session_scope() as session:
            reason = _due_and_recorded(session, channel_of(tracker), tracker.sender_id)
    except Exception as error:  # a reminder is never worth an error message
        logger.warning("nudge not checked (%s)", type(error).__name__)
        return []
    if reason is None:
        return []
    texts = nudge.texts()
    logger.info("nudge shown (%s)", reason)
    dispatcher.utter_message(text=texts.text(f"intro.{reason}"))
    dispatcher.utter_message(text=texts.text("ask_people"), buttons=nudge_buttons())
    return []


class OffersNudge:
    """For an action that ends an exercise or answers at the menu (listed before the action's
    base class): after what the action says, the reminder when it is due (``offer_nudge``)."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = super().run(dispatcher, tracker, domain)  # type: ignore[misc]
        return [*events, *offer_nudge(dispatcher, tracker)]


class _SetNudges(kit.SkillAction):
    """Turns the reminders off or on ("don't remind me again", "remind me to talk to people")."""

    skill = NUDGE
    reminders_off: bool

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        from actions.journal import _UNAVAILABLE, with_journal  # see channel_of

        channel = channel_of(tracker)

        def record(session: Session) -> bool:
            row = repository.nudge_of(session, channel, tracker.sender_id)
            was_off = bool(row.reminders_off) if row is not None else False
            repository.record_nudge(
                session, channel, tracker.sender_id, reminders_off=self.reminders_off
            )
            return was_off

        was_off: Any = with_journal(dispatcher, record)
        if was_off is _UNAVAILABLE:
            return []
        texts = self.texts()
        if self.reminders_off:
            dispatcher.utter_message(text=texts.text("already_stopped" if was_off else "stopped"))
        else:
            dispatcher.utter_message(text=texts.text("allowed" if was_off else "already_allowed"))
        return []


class ActionStopNudges(_SetNudges):
    action_name = "action_stop_nudges"
    reminders_off = True


class ActionAllowNudges(_SetNudges):
    action_name = "action_allow_nudges"
    reminders_off = False
