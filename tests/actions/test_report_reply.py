"""Reporting a reply: the actions on hand-built trackers, with a real (temporary) SQLite journal."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import report_reply as actions
from bot.exercises import report_reply as rr
from bot.journal import repository as journal
from bot.journal import session_scope
from tests.actions.sdk_forms import form_tracker, texts_of, validate_answer
from tests.actions.sdk_forms import run_action as run
from tests.conftest import agree_to_keeping

SENDER = "report-tester"
CHANNEL = "rest"
SENDER_ID = f"{CHANNEL}:{SENDER}"
REPLY_ID = "utter_crisis_not_safe@2026-12-06T21:03:14.123Z"
NOTE = "I said no as a joke about my exam and got emergency numbers 🙃"
# What came before the request: a crisis answer, a typed "no", the not-safe answer.
BEFORE = [
    {"event": "user", "text": "i want to die", "parse_data": {"intent": {"name": "crisis"}}},
    {"event": "action", "name": "utter_crisis_resources"},
    {"event": "bot", "text": "You matter.", "timestamp": 1.0, "metadata": {}},
    {"event": "user", "text": "no", "parse_data": {"intent": {"name": "deny"}}},
    {"event": "action", "name": "utter_crisis_not_safe"},
    {
        "event": "bot",
        "text": "Thank you for telling me. Please reach out for help right now.",
        "timestamp": 1796590994.123,
        "metadata": {"utter_action": "utter_crisis_not_safe"},
    },
    {"event": "action", "name": "action_listen"},
]


def tracker(
    slots: dict[str, Any] | None = None,
    *,
    before: list[dict] | None = None,
    sender: str = SENDER,
    channel: str = CHANNEL,
    **turn: Any,
) -> Tracker:
    t = form_tracker(sender, channel, actions.FORM, slots, **turn)
    # The conversation so far, then the latest message (form_tracker's only event).
    t.events = [*(BEFORE if before is None else before), *t.events]
    return t


def validate(slot: str, value: Any, **kwargs: Any) -> tuple[dict, CollectingDispatcher]:
    return validate_answer(actions.ValidateReportReplyForm(), tracker, slot, value, **kwargs)


def agreed(note: str = "") -> dict[str, Any]:
    return {"report_consent": True, "report_note": note, "report_reply_id": REPLY_ID}


def stored() -> list[dict[str, Any]]:
    with session_scope() as session:
        return [
            {
                "channel": r.channel,
                "reply_id": r.reply_id,
                "note": r.note,
                "user": r.user.pseudonym,
            }
            for r in journal.list_reply_reports(session)
        ]


# --- the request --------------------------------------------------------------------------------


def test_the_request_names_the_last_reply_back_and_starts_the_form() -> None:
    events, dispatcher = run(
        actions.ActionStartReportReply(), tracker(text="report this reply", intent="report_reply")
    )
    quote = "Thank you for telling me. Please reach out for help right…"
    assert texts_of(dispatcher) == [rr.texts().text("intro", quote=quote)]
    assert SlotSet("report_reply_id", REPLY_ID) in events
    assert SlotSet("report_reply_found", True) in events
    # A fresh start: an earlier report's answers are cleared.
    assert SlotSet("report_consent", None) in events and SlotSet("report_note", None) in events


def test_with_nothing_said_yet_there_is_nothing_to_report() -> None:
    events, dispatcher = run(
        actions.ActionStartReportReply(),
        tracker(before=[], text="report this reply", intent="report_reply"),
    )
    assert texts_of(dispatcher) == [rr.texts().text("nothing")]
    assert SlotSet("report_reply_found", False) in events


def test_the_question_says_what_is_kept_with_yes_and_no_buttons() -> None:
    _, dispatcher = run(actions.ActionAskReportConsent(), tracker(requested="report_consent"))
    assert texts_of(dispatcher) == [rr.texts().text("ask.report_consent")]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ['/give_answer{"answer": "yes"}', '/give_answer{"answer": "no"}']


def test_the_note_is_asked_with_its_limit_and_a_no_note_button() -> None:
    _, dispatcher = run(actions.ActionAskReportNote(), tracker(requested="report_note"))
    assert texts_of(dispatcher) == [rr.texts().text("ask.report_note", limit=rr.NOTE_LIMIT)]
    assert dispatcher.messages[0]["buttons"][0]["title"] == rr.texts().text("buttons.no_note")


# --- the answers -------------------------------------------------------------------------------


def test_yes_and_no_by_button_and_typed() -> None:
    assert validate("report_consent", "yes", intent="give_answer")[0] == {"report_consent": True}
    assert validate("report_consent", "no", intent="give_answer")[0] == {"report_consent": False}
    assert validate("report_consent", "yeah", intent="affirm")[0] == {"report_consent": True}
    assert validate("report_consent", "nah leave it", intent="deny")[0] == {"report_consent": False}


def test_an_unclear_answer_gets_the_hint_with_the_buttons() -> None:
    result, dispatcher = validate("report_consent", "hmm what", intent="nlu_fallback")
    assert result == {"report_consent": None, "form_hint": "report_consent"}
    assert texts_of(dispatcher) == [rr.texts().text("hints.consent_unclear")]
    assert len(dispatcher.messages[0]["buttons"]) == 2


def test_after_a_no_no_note_is_asked() -> None:
    form = actions.ValidateReportReplyForm()
    slots = ["report_consent", "report_note"]
    no = tracker({"report_consent": False})
    yes = tracker({"report_consent": True})
    assert asyncio.run(form.required_slots(slots, CollectingDispatcher(), no, {})) == slots[:1]
    assert asyncio.run(form.required_slots(slots, CollectingDispatcher(), yes, {})) == slots


def test_the_note_is_taken_as_written_or_skipped() -> None:
    assert validate("report_note", NOTE)[0] == {"report_note": NOTE}
    skip = '/give_answer{"answer": "skip"}'
    assert validate("report_note", "skip", text=skip, intent="give_answer")[0] == {
        "report_note": ""
    }
    assert validate("report_note", "no thanks")[0] == {"report_note": ""}


def test_a_note_too_long_is_asked_again_with_the_limit_and_nothing_is_cut() -> None:
    result, dispatcher = validate("report_note", "word " * 200)
    assert result == {"report_note": None, "form_hint": "report_note"}
    assert texts_of(dispatcher) == [rr.texts().text("hints.note_too_long", limit=rr.NOTE_LIMIT)]
    # The hint keeps the question's No-note button.
    assert dispatcher.messages[0]["buttons"][0]["payload"].endswith('"skip"}')


def test_a_menu_button_is_not_a_note() -> None:
    result, dispatcher = validate("report_note", "/start_roleplay", intent="start_roleplay")
    assert result == {"report_note": None, "form_hint": "report_note"}
    assert texts_of(dispatcher) == [rr.texts().text("hints.finish_this_first")]


def test_why_explains_each_question() -> None:
    for slot in actions.SLOTS:
        _, dispatcher = run(actions.ActionExplainReportReplyStep(), tracker(requested=slot))
        assert texts_of(dispatcher) == [rr.texts().text(f"why.{slot}")]


# --- keeping it ----------------------------------------------------------------------------------


def test_after_a_yes_the_report_is_kept_with_the_note_and_the_note_is_never_logged(
    journal_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    events, dispatcher = run(actions.ActionSaveReplyReport(), tracker(agreed(NOTE)))
    assert texts_of(dispatcher) == [rr.texts().text("saved")]
    [report] = stored()
    assert report["channel"] == CHANNEL and report["reply_id"] == REPLY_ID
    assert report["note"] == NOTE
    with session_scope() as session:
        assert report["user"] == journal.find_user(session, CHANNEL, SENDER_ID).pseudonym
    assert NOTE not in caplog.text and "exam" not in caplog.text
    # The slots are cleared for the next report.
    for slot in ("report_consent", "report_note", "report_reply_id"):
        assert SlotSet(slot, None) in events
    assert SlotSet("report_reply_found", False) in events


def test_a_report_without_a_note_keeps_none(journal_db: str) -> None:
    run(actions.ActionSaveReplyReport(), tracker(agreed("")))
    assert [r["note"] for r in stored()] == [None]


def test_a_report_has_its_own_yes_apart_from_keeping_exercise_answers(journal_db: str) -> None:
    """Someone who never agreed to keeping their answers (or declined) can still report."""
    with session_scope() as session:
        declined = journal.get_or_create_user(session, CHANNEL, "rest:decliner")
        journal.set_consent(session, declined, False)
    run(actions.ActionSaveReplyReport(), tracker(agreed(), sender="decliner"))
    run(actions.ActionSaveReplyReport(), tracker(agreed(), sender="never-asked"))
    assert len(stored()) == 2
    with session_scope() as session:
        # The notebook's consent is untouched by a report.
        assert journal.consent_of(session, CHANNEL, "rest:decliner") is False
        assert journal.consent_of(session, CHANNEL, "rest:never-asked") is None


def test_after_a_no_nothing_is_kept(journal_db: str) -> None:
    agree_to_keeping(journal_db, CHANNEL, SENDER_ID)
    _, dispatcher = run(
        actions.ActionSaveReplyReport(),
        tracker({"report_consent": False, "report_reply_id": REPLY_ID}),
    )
    assert texts_of(dispatcher) == [rr.texts().text("declined")]
    assert stored() == []


def test_the_repository_refuses_a_report_without_its_yes(journal_db: str) -> None:
    with session_scope() as session:
        user = journal.get_or_create_user(session, CHANNEL, SENDER_ID)
        with pytest.raises(journal.JournalConsentMissing):
            journal.save_reply_report(session, user, channel=CHANNEL, reply_id=REPLY_ID)
        with pytest.raises(journal.JournalInputError):
            journal.save_reply_report(
                session,
                user,
                channel=CHANNEL,
                reply_id=REPLY_ID,
                note="x" * (rr.NOTE_LIMIT + 1),
                consent=True,
            )
    assert stored() == []


def test_with_the_journal_down_it_says_so(unreachable_journal: str) -> None:
    _, dispatcher = run(actions.ActionSaveReplyReport(), tracker(agreed(NOTE)))
    assert [m.get("response") for m in dispatcher.messages] == ["utter_journal_unavailable"]


def test_the_report_is_in_the_export_and_gone_with_delete_my_data(journal_db: str) -> None:
    run(actions.ActionSaveReplyReport(), tracker(agreed(NOTE)))
    run(actions.ActionSaveReplyReport(), tracker(agreed("someone else's"), sender="other"))
    with session_scope() as session:
        export = journal.export_user(session, CHANNEL, SENDER_ID)
    assert [(r["reply_id"], r["note"]) for r in export["reply_reports"]] == [(REPLY_ID, NOTE)]
    with session_scope() as session:
        counts = journal.delete_user(session, CHANNEL, SENDER_ID)
    assert counts["reply_reports"] == 1
    assert [r["note"] for r in stored()] == ["someone else's"]
