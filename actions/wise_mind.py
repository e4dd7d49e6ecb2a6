"""The wise-mind pause: the form's questions, its validation, and the journal entry at the end.

Orchestration only: reading answers and choosing practices is in bot/exercises/wise_mind.py,
every word the bot says is in data/wise_mind/, storage is bot/journal.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import channel_of, keeping_allowed
from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot.exercises import wise_mind as wm
from bot.journal import JournalError, JournalUnavailable, session_scope
from bot.journal import repository as journal
from bot.journal.inputs import NOTE_LIMIT

logger = logging.getLogger(__name__)


FORM = "wise_mind_form"
FORM_SLOTS = (
    "wm_distress_before",
    "wm_intro",
    "wm_practice",
    "wm_step",
    "wm_note",
    "wm_distress_after",
)
RESET_SLOTS = (*FORM_SLOTS, "wm_step_index")
STEP_DONE = "done"
# Buttons answer with these intents; any other "/payload" typed into the form is not an answer.
ANSWER_INTENTS = frozenset({"affirm", "deny"})
# At this level or above after the practice, the summary also points to crisis lines.
VERY_HIGH = 8


def _step_index(tracker: Tracker) -> int:
    value = tracker.get_slot("wm_step_index")
    return int(value) if isinstance(value, int | float) and value >= 0 else 0


def _practice_buttons(last_id: str | None) -> list[dict[str, str]]:
    texts = wm.texts()
    buttons = [
        {"title": practice.title, "payload": practice.title}
        for practice in wm.offered_practices(wm.practices(), last_id)
    ]
    buttons.append(texts.button("surprise", "surprise me"))
    return buttons


WISE_MIND = kit.Skill(
    "wise_mind", wm.texts, form=FORM, slots=RESET_SLOTS, start_intent="start_wise_mind"
)


ActionStartWiseMind = kit.start_action(WISE_MIND, "action_start_wise_mind", intro_key=None)


# --- the form's questions -------------------------------------------------------------------


ActionAskWmDistressBefore, ActionAskWmDistressAfter = kit.ask_actions(
    WISE_MIND, "wm_distress_before", "wm_distress_after"
)


class _AskWiseMind(kit.AskSlot):
    """Asks one of the form's questions, unless the validator has just given a hint for it."""

    skill = WISE_MIND


class ActionAskWmIntro(_AskWiseMind):
    slot = "wm_intro"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        texts = wm.texts()
        return [texts.button("more", "/affirm"), texts.button("skip_intro", "/deny")]


class ActionAskWmNote(_AskWiseMind):
    slot = "wm_note"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [wm.texts().button("skip_note", "/deny")]


class ActionAskWmPractice(_AskWiseMind):
    """Offers the practices, leaving out the one this user did last time."""

    slot = "wm_practice"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return _practice_buttons(tracker.get_slot("wm_last_practice"))

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        last_id = self._last_practice(tracker)
        last = wm.practices().get(last_id)
        texts = wm.texts()
        text = (
            texts.text("ask.wm_practice_after_last", last=last.title)
            if last
            else texts.text("ask.wm_practice")
        )
        dispatcher.utter_message(text=text, buttons=_practice_buttons(last_id))
        return [SlotSet("wm_last_practice", last_id)]

    @staticmethod
    def _last_practice(tracker: Tracker) -> str | None:
        # The journal knows across conversations; the slot covers a journal that is down.
        try:
            with session_scope() as session:
                user = journal.find_user(session, channel_of(tracker), tracker.sender_id)
                entries = journal.list_wise_mind_entries(session, user, limit=1) if user else []
                if entries:
                    return entries[0].practice
        except JournalError as error:
            # Only a nicer choice depends on it: no need to tell the user the notebook is down.
            logger.warning("wise mind: last practice unknown (%s)", error)
        return tracker.get_slot("wm_last_practice")


class ActionAskWmStep(_AskWiseMind):
    """Says the current step of the chosen practice, with a Next (or Finish) button."""

    slot = "wm_step"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        practice = wm.practices().get(tracker.get_slot("wm_practice"))
        if practice is None:
            # The content changed under a paused practice; the validator moves on.
            return []
        index = min(_step_index(tracker), len(practice.steps) - 1)
        last = index == len(practice.steps) - 1
        button = wm.texts().button("finish" if last else "next", "next")
        dispatcher.utter_message(text=practice.steps[index], buttons=[button])
        return []


# --- validation ------------------------------------------------------------------------------


class ValidateWiseMindForm(kit.ExerciseValidator):
    """Reads each answer; a bad one gets a hint and is asked again (``{slot: None}``)."""

    skill = WISE_MIND

    answer_intents = ANSWER_INTENTS
    # "let's continue" during a practice moves it on by one step.
    continue_answers = frozenset({"wm_step"})

    def validate_wm_distress_before(self, answer: kit.Answer) -> dict[str, Any]:
        return {"wm_distress_before": answer.rating()}

    def validate_wm_distress_after(self, answer: kit.Answer) -> dict[str, Any]:
        return {"wm_distress_after": answer.rating()}

    def validate_wm_intro(self, answer: kit.Answer) -> dict[str, Any]:
        choice = wm.intro_choice(answer.latest, answer.intent)
        if choice is None:
            # Neither "more" nor "skip" could be read: the two buttons again.
            answer.hint("hints.intro_unclear")
        elif choice == "more":
            answer.say(wm.texts().text("explanation"))
        return {"wm_intro": choice}

    def validate_wm_practice(self, answer: kit.Answer) -> dict[str, Any]:
        book, texts = wm.practices(), wm.texts()
        choice = wm.choose_practice(answer.latest, book)
        if choice is None:
            # Not a practice we know: show the choices again rather than guess.
            answer.hint("hints.practice_unclear")
            return {"wm_practice": None}
        if choice == wm.SURPRISE:
            practice = wm.pick_surprise(book, answer.slot_value("wm_last_practice"))
            key = "picked.surprise"
        else:
            practice = book.get(choice)
            key = "picked.chosen"
        answer.say(texts.text(key, title=practice.title, intro=practice.intro))
        return {"wm_practice": practice.id, "wm_step_index": 0, "wm_step": None}

    def validate_wm_step(self, answer: kit.Answer) -> dict[str, Any]:
        practice = wm.practices().get(answer.slot_value("wm_practice"))
        if practice is None:
            return {"wm_step": STEP_DONE}
        index = _step_index(answer.tracker)
        if wm.wants_repeat(answer.latest, wm.practices()):
            # "wait", "again": the same step again, without hurrying them on.
            answer.say(wm.texts().text("hints.take_your_time"))
            return {"wm_step": None}
        if index + 1 >= len(practice.steps):
            return {"wm_step": STEP_DONE, "wm_step_index": len(practice.steps)}
        # Asked again on purpose: each answer moves the practice on by one step.
        return {"wm_step": None, "wm_step_index": index + 1}

    def validate_wm_note(self, answer: kit.Answer) -> dict[str, Any]:
        if wm.is_note_skip(answer.latest, answer.intent):
            return {"wm_note": ""}
        note = " ".join(str(answer.value).split())
        if len(note) > NOTE_LIMIT:
            # The journal refuses longer notes; cutting them silently would lose their words.
            answer.hint("hints.note_too_long", limit=NOTE_LIMIT)
            return {"wm_note": None}
        return {"wm_note": note}


# --- "why are you asking this?" and the end ---------------------------------------------------


class ActionExplainWiseMindStep(kit.ExplainQuestion):
    """Explains why the current question (or practice step) is there."""

    skill = WISE_MIND
    explained = wm.ASKED_SLOTS
    action_name = "action_explain_wise_mind_step"

    def why(self, slot: str | None, tracker: Tracker) -> str | None:
        practice = wm.practices().get(tracker.get_slot("wm_practice"))
        return practice.why if slot == "wm_step" and practice is not None else None


class ActionSaveWiseMind(OffersNudge, kit.SkillAction):
    """Saves the practice to the journal, sums up before/after, and clears the answers."""

    action_name = "action_save_wise_mind"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = wm.texts()
        practice = tracker.get_slot("wm_practice")
        before = tracker.get_slot("wm_distress_before")
        after = tracker.get_slot("wm_distress_after")
        note = tracker.get_slot("wm_note") or None
        keep = keeping_allowed(dispatcher, tracker)
        saved_at = self._save(tracker, practice, before, after, note) if keep else None

        key = wm.distress_summary_key(before, after)
        dispatcher.utter_message(text=texts.text(key, before=before, after=after))
        if after >= VERY_HIGH:
            dispatcher.utter_message(
                text=texts.text("summary.very_high"),
                buttons=[texts.button("crisis_lines", "/crisis")],
            )
        if keep and saved_at is None:
            dispatcher.utter_message(response="utter_journal_unavailable")
        elif saved_at is not None:
            dispatcher.utter_message(text=texts.text("summary.saved", date=kit.long_date(saved_at)))
        dispatcher.utter_message(
            text=texts.text("summary.next"),
            buttons=[
                texts.button("again", "/start_wise_mind"),
                texts.button("boundary", "/start_boundary_script"),
                texts.button("menu", "/ask_help"),
            ],
        )
        return [SlotSet(slot, None) for slot in RESET_SLOTS] + [
            SlotSet("wm_last_practice", practice)
        ]

    @staticmethod
    def _save(
        tracker: Tracker, practice: str, before: int, after: int, note: str | None
    ) -> datetime | None:
        try:
            with session_scope() as session:
                user = journal.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
                entry = journal.add_wise_mind_entry(
                    session,
                    user,
                    practice=practice,
                    distress_before=before,
                    distress_after=after,
                    note=note,
                )
                return entry.created_at
        except JournalUnavailable as error:
            logger.warning("wise mind: not saved, journal unavailable (%s)", error)
        except JournalError as error:
            # Input the journal refused (its messages never contain the user's words).
            logger.warning("wise mind: not saved (%s)", error)
        return None
