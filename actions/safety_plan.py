"""The personal safety plan: the form's questions and validation, saving, showing and editing
one step, and the gentle offer after a crisis answer.

Orchestration only: reading answers and writing the plan as text is in
bot/exercises/safety_plan.py, every word the bot says is in data/safety_plan/texts.yml, storage
is bot/journal. The user's own steps under a crisis answer are added by the channels' fail-safe
(bot/channels/own_plan.py), not here: they must go out even when this server is down.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.journal import _UNAVAILABLE, channel_of, keeping_allowed, with_journal
from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot.dialogue.turns import PAUSED_SLOT, answer_button, crisis_stopped_form, payload
from bot.exercises import safety_plan as sp
from bot.journal import JournalError, JournalUnavailable, session_scope
from bot.journal import repository as journal
from bot.safety import resources

logger = logging.getLogger(__name__)

FORM = "safety_plan_form"
EDIT_STEP_SLOT = "sp_edit_step"
EDITING_SLOT = "sp_editing"
OFFERED_SLOT = "sp_offered"
RESET_SLOTS = (*sp.SLOTS, EDIT_STEP_SLOT, EDITING_SLOT)
# Typed at step 6 with this many words, an answer is taken as "I've thought about it" (and its
# words are not kept); shorter unclear replies get the buttons again.
TYPED_SURROUNDINGS_WORDS = 3

SAFETY_PLAN = kit.Skill(
    "safety_plan", sp.texts, form=FORM, slots=RESET_SLOTS, start_intent="start_safety_plan"
)


def _region_lines(tracker: Tracker) -> list[str]:
    try:
        return resources.crisis_lines(tracker.get_slot("region"))
    except Exception as error:  # the reviewed lines are shown elsewhere too; the plan goes on
        logger.warning("safety plan: crisis lines unavailable (%s)", type(error).__name__)
        return []


def _edit_payload(number: int) -> str:
    return payload("edit_safety_plan", plan_step=str(number))


def _make_buttons(other: str, other_payload: str) -> list[dict[str, str]]:
    """ "Make a safety plan" and a way out (the menu, or "not now")."""
    texts = sp.texts()
    return [texts.button("make", "/start_safety_plan"), texts.button(other, other_payload)]


def _pin_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """On Telegram, the button that pins the plan at the top of the chat."""
    if channel_of(tracker) != "telegram":
        return []
    return [sp.texts().button("pin", "/pin_safety_plan")]


def _read_plan(session: Session, tracker: Tracker) -> dict[str, Any] | None:
    return journal.safety_plan_of(session, channel_of(tracker), tracker.sender_id)


def _unfinished(tracker: Tracker) -> bool:
    """A new plan left part-way by a crisis answer or by "stop", with at least one step
    answered: it is gone on with, never started over."""
    left = crisis_stopped_form(tracker.events) == FORM or tracker.get_slot(PAUSED_SLOT) == FORM
    if not left or tracker.get_slot(EDITING_SLOT):
        return False
    return any(tracker.get_slot(slot) is not None for slot in sp.SLOTS)


class ActionStartSafetyPlan(kit.StartExercise):
    """Starts the plan fresh; says first when it will replace a saved one. A plan left
    unfinished (a crisis answer or "stop" in the middle) is gone on with instead."""

    skill = SAFETY_PLAN
    action_name = "action_start_safety_plan"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if _unfinished(tracker):
            dispatcher.utter_message(text=self.texts().text("go_on.start"))
            return [SlotSet(PAUSED_SLOT, None)] if tracker.get_slot(PAUSED_SLOT) == FORM else []
        events = super().act(dispatcher, tracker)
        try:
            with session_scope() as session:
                saved = _read_plan(session, tracker)
        except JournalError as error:
            logger.warning("safety plan: saved plan unknown (%s)", type(error).__name__)
            saved = None
        if saved is not None:
            dispatcher.utter_message(text=self.texts().text("replaces"))
        return events


# --- the form's questions -------------------------------------------------------------------


class _AskStep(kit.AskSlot):
    """A step's question, with a Skip button."""

    skill = SAFETY_PLAN

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(sp.texts().text("buttons.skip"), sp.SKIP)]


class ActionAskSpWarningSigns(_AskStep):
    slot = "sp_warning_signs"


class ActionAskSpCoping(_AskStep):
    slot = "sp_coping"


class ActionAskSpSocial(_AskStep):
    slot = "sp_social"


class ActionAskSpHelpers(_AskStep):
    slot = "sp_helpers"


class ActionAskSpProfessionals(_AskStep):
    """Step 5: the crisis lines of the user's region first, then room for their own."""

    slot = "sp_professionals"

    def question(self, tracker: Tracker) -> str:
        lines = "\n".join(f"• {line}" for line in _region_lines(tracker))
        known = tracker.get_slot("region") is not None
        key = "ask.sp_professionals" if known else "ask.sp_professionals_anywhere"
        return self.texts().text(key, lines=lines)

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(sp.texts().text("buttons.thats_all"), sp.SKIP)]


class ActionAskSpSurroundings(_AskStep):
    """Step 6: a reviewed static prompt; the answer is one of three buttons."""

    slot = "sp_surroundings"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        texts = sp.texts()
        return [
            answer_button(texts.text(f"buttons.surroundings_{choice}"), choice)
            for choice in sp.SURROUNDINGS_CHOICES
        ]


# --- validation ------------------------------------------------------------------------------


class ValidateSafetyPlanForm(kit.ExerciseValidator):
    """Reads each step; a bad answer gets a hint and is asked again (``{slot: None}``)."""

    skill = SAFETY_PLAN
    # "show my plan" or "edit step 2" typed mid-plan is heard as a request (pause offered).

    def slots_to_ask(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        # "edit step N" asks that step alone; the form ends when it is answered.
        number = tracker.get_slot(EDIT_STEP_SLOT)
        if tracker.get_slot(EDITING_SLOT) and isinstance(number, int) and 1 <= number <= 6:
            return [sp.step(number).slot]
        return domain_slots

    def _items(self, answer: kit.Answer) -> dict[str, Any]:
        step = sp.step_of_slot(answer.slot)
        text = answer.text
        if answer.value == sp.SKIP or sp.is_skip(text):
            return {answer.slot: ""}
        if not text:
            answer.hint("hints.empty")
            return {answer.slot: None}
        if sp.is_go_ahead(text):
            answer.hint("hints.go_ahead")
            return {answer.slot: None}
        reading = sp.read_items(text, step)
        if reading.problem:
            # Nothing is cut or dropped silently: the user chooses what to keep.
            answer.hint(reading.problem, limit=reading.limit)
            return {answer.slot: None}
        return {answer.slot: "\n".join(reading.items)}

    validate_sp_warning_signs = validate_sp_coping = validate_sp_social = _items
    validate_sp_helpers = validate_sp_professionals = _items

    def validate_sp_surroundings(self, answer: kit.Answer) -> dict[str, Any]:
        choice = sp.surroundings_choice(answer.text)
        if choice is not None:
            return {"sp_surroundings": choice}
        if len((answer.text or "").split()) >= TYPED_SURROUNDINGS_WORDS:
            # Their words may hold details that must never be kept or shown back.
            answer.say(sp.texts().text("surroundings_typed"))
            return {"sp_surroundings": "done"}
        answer.hint("hints.surroundings_unclear")
        return {"sp_surroundings": None}


# --- "why?", the end, showing and editing ------------------------------------------------------


class ActionExplainSafetyPlanStep(kit.ExplainQuestion):
    """Why the current step is part of the plan (Stanley & Brown, 2012)."""

    skill = SAFETY_PLAN
    explained = sp.SLOTS
    action_name = "action_explain_safety_plan_step"


def _plan_from_slots(tracker: Tracker) -> tuple[dict[str, list[str]], str | None]:
    steps = {s.field: sp.items_of(tracker.get_slot(s.slot)) for s in sp.LIST_STEPS}
    choice = tracker.get_slot(sp.SURROUNDINGS_STEP.slot)
    return steps, choice if choice in sp.SURROUNDINGS_CHOICES else None


class ActionSaveSafetyPlan(OffersNudge, kit.SkillAction):
    """Keeps the plan (or the one step edited) and shows the whole plan in one message."""

    skill = SAFETY_PLAN
    action_name = "action_save_safety_plan"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        editing = tracker.get_slot(EDITING_SLOT) and isinstance(
            tracker.get_slot(EDIT_STEP_SLOT), int
        )
        events: list[EventType] = [SlotSet(slot, None) for slot in sp.SLOTS]
        events += [SlotSet(EDIT_STEP_SLOT, None), SlotSet(EDITING_SLOT, False)]
        if editing:
            self._save_step(dispatcher, tracker)
            return events
        steps, choice = _plan_from_slots(tracker)
        keep = keeping_allowed(dispatcher, tracker)
        saved = self._save(tracker, steps, choice) if keep else False
        plan = {**steps, "surroundings": choice}
        dispatcher.utter_message(text=sp.summary_text(plan, _region_lines(tracker)))
        if keep and not saved:
            dispatcher.utter_message(response="utter_journal_unavailable")
        elif saved:
            dispatcher.utter_message(text=texts.text("summary.saved"))
        pin = _pin_buttons(tracker) if saved else []
        if pin:
            dispatcher.utter_message(text=texts.text("pin.offer"), buttons=pin)
        dispatcher.utter_message(
            text=texts.text("summary.after"),
            buttons=[texts.button("menu", "/ask_help")],
        )
        return events

    @staticmethod
    def _save(tracker: Tracker, steps: dict[str, list[str]], choice: str | None) -> bool:
        try:
            with session_scope() as session:
                user = journal.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
                journal.save_safety_plan(session, user, steps, choice)
                return True
        except JournalUnavailable as error:
            logger.warning("safety plan: not saved, journal unavailable (%s)", error)
        except JournalError as error:
            # Input the journal refused (its messages never contain the user's words).
            logger.warning("safety plan: not saved (%s)", type(error).__name__)
        return False

    def _save_step(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        texts = self.texts()
        number = int(tracker.get_slot(EDIT_STEP_SLOT))
        step = sp.step(number)
        value = tracker.get_slot(step.slot)
        if value in (None, ""):
            dispatcher.utter_message(text=texts.text("edit.unchanged", number=number))
            return
        if not keeping_allowed(dispatcher, tracker):
            return
        new = value if step is sp.SURROUNDINGS_STEP else sp.items_of(value)

        def update(session: Session) -> dict[str, Any] | None:
            user = journal.find_user(session, channel_of(tracker), tracker.sender_id)
            if user is None:
                return None
            try:
                journal.update_safety_plan_step(session, user, step.field, new)
            except JournalError as error:
                logger.warning("safety plan: step not changed (%s)", type(error).__name__)
                return None
            return _read_plan(session, tracker)

        plan = with_journal(dispatcher, update)
        if plan is _UNAVAILABLE:
            return
        if plan is None:
            dispatcher.utter_message(response="utter_journal_unavailable")
            return
        dispatcher.utter_message(text=texts.text("edit.saved", number=number))
        dispatcher.utter_message(text=sp.summary_text(plan, _region_lines(tracker)))


class ActionShowSafetyPlan(kit.SkillAction):
    """Answers "show my safety plan" with the whole plan, and a button per step to change it."""

    skill = SAFETY_PLAN
    action_name = "action_show_safety_plan"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        plan = with_journal(dispatcher, lambda session: _read_plan(session, tracker))
        if plan is _UNAVAILABLE:
            return []
        if plan is None:
            dispatcher.utter_message(
                text=texts.text("show.none"),
                buttons=_make_buttons("menu", "/ask_help"),
            )
            return []
        dispatcher.utter_message(text=sp.summary_text(plan, _region_lines(tracker)))
        dispatcher.utter_message(
            text=texts.text("show.edit_hint"),
            buttons=[*sp.step_buttons(_edit_payload), *_pin_buttons(tracker)],
        )
        return []


class ActionPinSafetyPlan(kit.SkillAction):
    """Pins the plan at the top of a Telegram chat when the user asks (their consent is the
    tap): the channel sends it and pins it (``bot.channels.telegram``, the ``pin`` message)."""

    skill = SAFETY_PLAN
    action_name = "action_pin_safety_plan"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        if channel_of(tracker) != "telegram":
            dispatcher.utter_message(text=texts.text("pin.elsewhere"))
            return []
        plan = with_journal(dispatcher, lambda session: _read_plan(session, tracker))
        if plan is _UNAVAILABLE:
            return []
        if plan is None:
            dispatcher.utter_message(
                text=texts.text("show.none"), buttons=_make_buttons("menu", "/ask_help")
            )
            return []
        summary = sp.summary_text(plan, _region_lines(tracker))
        dispatcher.utter_message(json_message={"pin": {"text": summary}})
        dispatcher.utter_message(text=texts.text("pin.done"))
        return []


class ActionEditSafetyPlan(kit.SkillAction):
    """Starts redoing one step ("edit step 4"), or says why it cannot: no such step, no plan.

    Sets ``sp_editing``: the rules start the form only when it is true.
    """

    skill = SAFETY_PLAN
    action_name = "action_edit_safety_plan"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        refused = [SlotSet(EDITING_SLOT, False), SlotSet(EDIT_STEP_SLOT, None)]
        entity = next(tracker.get_latest_entity_values("plan_step"), None)
        number = sp.step_number(tracker.latest_message.get("text"), entity)
        if number is None:
            dispatcher.utter_message(
                text=texts.text("edit.which"), buttons=sp.step_buttons(_edit_payload)
            )
            return refused
        if not 1 <= number <= len(sp.STEPS):
            dispatcher.utter_message(
                text=texts.text("edit.unknown", number=number),
                buttons=sp.step_buttons(_edit_payload),
            )
            return refused
        plan = with_journal(dispatcher, lambda session: _read_plan(session, tracker))
        if plan is _UNAVAILABLE:
            return refused
        if plan is None:
            dispatcher.utter_message(
                text=texts.text("edit.no_plan"),
                buttons=_make_buttons("not_now", "/deny"),
            )
            return refused
        dispatcher.utter_message(text=texts.text("edit.start", number=number))
        return [
            *(SlotSet(slot, None) for slot in sp.SLOTS),
            SlotSet(EDIT_STEP_SLOT, number),
            SlotSet(EDITING_SLOT, True),
        ]


class ActionOfferSafetyPlan(kit.SkillAction):
    """After "Yes, I'm safe right now": to someone whose plan a crisis answer interrupted,
    offers to go on with it; else offers, once a conversation, to make a plan, to someone who
    has none. Quiet when the journal cannot say (a crisis moment is no time for errors)."""

    skill = SAFETY_PLAN
    action_name = "action_offer_safety_plan"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        if crisis_stopped_form(tracker.events) == FORM and _unfinished(tracker):
            dispatcher.utter_message(
                text=texts.text("go_on.offer"),
                buttons=[
                    texts.button("go_on", "/resume_exercise"),
                    texts.button("not_now", "/deny"),
                ],
            )
            return []
        if tracker.get_slot(OFFERED_SLOT):
            return []
        try:
            with session_scope() as session:
                has_plan = _read_plan(session, tracker) is not None
        except JournalError as error:
            logger.warning("safety plan: not offered, journal unknown (%s)", type(error).__name__)
            return []
        if has_plan:
            return []
        dispatcher.utter_message(
            text=texts.text("offer"),
            buttons=_make_buttons("not_now", "/deny"),
        )
        return [SlotSet(OFFERED_SLOT, True)]
