"""Reporting the bot's last reply for the operator's review (issue 19): the request, the
question that says what is kept and asks for a yes, an optional short note, and keeping it.

Orchestration only: which reply it was and reading the answers are in
bot/exercises/report_reply.py, every word the bot says is in data/report_reply/texts.yml,
storage is bot/journal (``python -m bot.journal reports`` lists the reports). The note is the
user's own words: it is never logged. A crisis message typed as the note never reaches it (the
slot's guard), and is answered by the crisis rule (data/rules/report_reply.yml).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.journal import _UNAVAILABLE, channel_of, with_journal
from bot import dialogue as kit
from bot.dialogue.turns import answer_button
from bot.exercises import report_reply as rr
from bot.journal import JournalError
from bot.journal import repository as journal

logger = logging.getLogger(__name__)

FORM = "report_reply_form"
CONSENT_SLOT = "report_consent"
NOTE_SLOT = "report_note"
REPLY_SLOT = "report_reply_id"
# Whether a reply was found to report: the rules start the form only when it is true.
FOUND_SLOT = "report_reply_found"
SLOTS = (CONSENT_SLOT, NOTE_SLOT)

REPORT_REPLY = kit.Skill("report_reply", rr.texts, form=FORM, slots=SLOTS, start_intent=rr.INTENT)


class ActionStartReportReply(kit.StartExercise):
    """Finds the bot's last reply and names it back (its first words); says so when there is
    none. A report asked for again starts fresh."""

    skill = REPORT_REPLY
    action_name = "action_start_report_reply"
    intro_key = None  # the intro names the reply: said here

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        reply = rr.last_reply(tracker.events)
        if reply is None:
            dispatcher.utter_message(text=texts.text("nothing"))
            return [SlotSet(REPLY_SLOT, None), SlotSet(FOUND_SLOT, False)]
        if reply.quote:
            dispatcher.utter_message(text=texts.text("intro", quote=reply.quote))
        else:
            dispatcher.utter_message(text=texts.text("intro_unquoted"))
        cleared = super().act(dispatcher, tracker)
        return [*cleared, SlotSet(REPLY_SLOT, reply.reply_id), SlotSet(FOUND_SLOT, True)]


class ActionAskReportConsent(kit.AskSlot):
    """What a report keeps, and whether it may: Yes / No."""

    skill = REPORT_REPLY
    slot = CONSENT_SLOT

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        texts = self.texts()
        return [
            answer_button(texts.text("buttons.report_it"), rr.YES),
            answer_button(texts.text("buttons.leave_it"), rr.NO),
        ]


class ActionAskReportNote(kit.AskSlot):
    """The optional note, with its limit and a No-note button."""

    skill = REPORT_REPLY
    slot = NOTE_SLOT

    def question(self, tracker: Tracker) -> str:
        return self.texts().text("ask.report_note", limit=rr.NOTE_LIMIT)

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(self.texts().text("buttons.no_note"), rr.SKIP)]


class ValidateReportReplyForm(kit.ExerciseValidator):
    """Reads the yes or no, then the note; an unclear answer gets a hint and is asked again."""

    skill = REPORT_REPLY

    def slots_to_ask(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        # A "no" ends the form there: no note is asked for a report that is not kept.
        if tracker.get_slot(CONSENT_SLOT) is False:
            return [CONSENT_SLOT]
        return domain_slots

    def validate_report_consent(self, answer: kit.Answer) -> dict[str, Any]:
        consent = rr.read_consent(answer.value, answer.text, answer.intent)
        if consent is None:
            answer.hint("hints.consent_unclear")
            return {CONSENT_SLOT: None}
        return {CONSENT_SLOT: consent}

    def validate_report_note(self, answer: kit.Answer) -> dict[str, Any]:
        reading = rr.read_note(answer.value, answer.text, answer.intent)
        if reading.hint:
            answer.hint(reading.hint, limit=rr.NOTE_LIMIT)
            return {NOTE_SLOT: None}
        return {NOTE_SLOT: reading.note}


class ActionExplainReportReplyStep(kit.ExplainQuestion):
    """Why the report asks for a yes, and what the note is for."""

    skill = REPORT_REPLY
    explained = SLOTS
    action_name = "action_explain_report_reply_step"


class ActionSaveReplyReport(kit.SkillAction):
    """Keeps the report after a yes (the reply's id, the note, the channel, the time); after a
    no, says nothing was kept. Clears the report's slots either way."""

    skill = REPORT_REPLY
    action_name = "action_save_reply_report"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = self.texts()
        events: list[EventType] = [SlotSet(slot, None) for slot in (*SLOTS, REPLY_SLOT)]
        events.append(SlotSet(FOUND_SLOT, False))
        reply_id = tracker.get_slot(REPLY_SLOT)
        if tracker.get_slot(CONSENT_SLOT) is not True or not reply_id:
            dispatcher.utter_message(text=texts.text("declined"))
            return events
        note = tracker.get_slot(NOTE_SLOT) or None
        channel = channel_of(tracker)

        def save(session: Session) -> bool:
            user = journal.get_or_create_user(session, channel, tracker.sender_id)
            try:
                journal.save_reply_report(
                    session, user, channel=channel, reply_id=reply_id, note=note, consent=True
                )
            except JournalError as error:
                # Input the journal refused (its messages never contain the user's words).
                logger.warning("reply report: not kept (%s)", type(error).__name__)
                return False
            return True

        saved = with_journal(dispatcher, save)
        if saved is _UNAVAILABLE:
            return events
        if not saved:
            dispatcher.utter_message(response="utter_journal_unavailable")
            return events
        dispatcher.utter_message(text=texts.text("saved"))
        return events
