"""Reporting a reply, without Rasa: which reply is the last one, its id, reading the yes or no
and the note, the words, and the training examples (never a crisis message)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from bot import safety
from bot.exercises import report_reply as rr
from bot.journal.inputs import REPLY_ID_LIMIT

REPO_ROOT = Path(__file__).resolve().parents[2]
# 2026-12-06 21:03:14.123 UTC
T0 = datetime(2026, 12, 6, 21, 3, 14, 123000, tzinfo=timezone.utc).timestamp()


def user(text: str, intent: str) -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def bot(text: str | None, at: float, response: str | None = None) -> dict:
    metadata = {"utter_action": response} if response else {}
    return {"event": "bot", "text": text, "timestamp": at, "metadata": metadata}


def crisis_then_not_safe() -> list[dict]:
    return [
        action("action_session_start"),
        {"event": "session_started"},
        action("action_listen"),
        user("hi", "greet"),
        action("utter_greet"),
        bot("Hi, I'm Secure Base.", T0 - 60, "utter_greet"),
        action("action_listen"),
        user("i want to die", "crisis"),
        action("utter_crisis_resources"),
        bot("You matter, and you deserve support right now.", T0 - 30, "utter_crisis_resources"),
        action("action_listen"),
        user("no", "deny"),
        action("utter_crisis_not_safe"),
        bot("Thank you for telling me. Please reach out for help right now:", T0, None),
        action("action_listen"),
        user("/report_reply", "report_reply"),
    ]


def test_the_last_reply_is_the_turn_before_the_request_named_without_its_words() -> None:
    events = crisis_then_not_safe()
    # The response name comes from the message's metadata when Rasa uttered a response, else
    # from the action that said it.
    reply = rr.last_reply(events)
    assert reply == rr.Reply(
        "utter_crisis_not_safe@2026-12-06T21:03:14.123Z",
        "Thank you for telling me. Please reach out for help right…",
    )
    assert "reach out" not in reply.reply_id


def test_a_turn_of_several_messages_is_one_reply_named_by_each_part() -> None:
    events = [
        user("yes", "confirm_safe"),
        action("utter_crisis_safe"),
        bot("I'm really glad you're safe right now.", T0, "utter_crisis_safe"),
        action("action_offer_safety_plan"),
        bot("Would you like to make a safety plan?", T0 + 0.2),
        bot("Or not now.", T0 + 0.3),
        action("action_listen"),
        user("report this reply", "report_reply"),
    ]
    reply = rr.last_reply(events)
    assert reply.reply_id == "utter_crisis_safe+action_offer_safety_plan@2026-12-06T21:03:14.123Z"
    assert reply.quote == "I'm really glad you're safe right now."


def test_nothing_said_yet_is_no_reply() -> None:
    assert rr.last_reply([action("action_listen"), user("report this", "report_reply")]) is None
    assert rr.last_reply([]) is None


def test_a_restart_forgets_the_replies_before_it() -> None:
    events = [*crisis_then_not_safe()[:-1], {"event": "restart"}, user("report", "report_reply")]
    assert rr.last_reply(events) is None


def test_the_reports_own_turns_and_the_way_to_it_are_skipped() -> None:
    """Asked mid-exercise: the kit names the request back, the user pauses, then asks again:
    the exercise's question is what is reported, not the pause or the kit's words."""
    events = [
        user("make a safety plan", "start_safety_plan"),
        action("action_start_safety_plan"),
        bot("A safety plan is a short list...", T0),
        action("safety_plan_form"),
        bot("Step 1 of 6: my warning signs.", T0 + 1),
        action("action_listen"),
        user("report that reply", "report_reply"),
        action("safety_plan_form"),
        bot("It sounds like you'd like to report one of my replies.", T0 + 5),
        action("action_listen"),
        user("/stop_exercise", "stop_exercise"),
        action("action_pause_exercise"),
        bot("Okay, we'll pause here.", T0 + 6, "utter_exercise_paused"),
        action("action_listen"),
        user("report that reply", "report_reply"),
    ]
    assert rr.last_reply(events).reply_id == (
        "action_start_safety_plan+safety_plan_form@2026-12-06T21:03:14.123Z"
    )
    # After a finished report, asking again reports the reply before it, not the report's words.
    events += [
        action("action_start_report_reply"),
        bot("Thank you for telling me.", T0 + 7),
        action("report_reply_form"),
        bot("Shall I report it?", T0 + 8),
        action("action_listen"),
        user("no", "deny"),
        action("report_reply_form"),
        action("action_save_reply_report"),
        bot("Okay, I won't report it.", T0 + 9),
        action("action_listen"),
        user("report this reply", "report_reply"),
    ]
    assert rr.last_reply(events).reply_id.startswith("action_start_safety_plan+safety_plan_form@")


def test_a_reply_without_text_has_no_quote_and_a_long_id_is_capped() -> None:
    events = [
        user("export my data", "export_my_data"),
        action("action_export_my_data"),
        bot(None, T0),
        action("action_listen"),
        user("report it", "report_reply"),
    ]
    assert rr.last_reply(events) == rr.Reply("action_export_my_data@2026-12-06T21:03:14.123Z", None)
    names = [f"action_with_a_rather_long_name_number_{n}" for n in range(8)]
    made = rr.reply_id(names, T0)
    assert len(made) <= REPLY_ID_LIMIT and made.endswith("@2026-12-06T21:03:14.123Z")
    assert made.count("action_with") <= rr.MAX_NAMES
    assert rr.reply_id(["a", "b", "a"], None) == "a+b@unknown-time"


@pytest.mark.parametrize(
    ("value", "text", "intent", "expected"),
    [
        ("yes", '/give_answer{"answer": "yes"}', "give_answer", True),
        ("no", '/give_answer{"answer": "no"}', "give_answer", False),
        ("yes please", "yes please", "affirm", True),
        ("sure", "sure", "nlu_fallback", True),
        ("Yes, report it", "Yes, report it", "report_reply", True),
        ("nah", "nah", "nlu_fallback", False),
        ("No, leave it", "No, leave it", "nlu_fallback", False),
        ("no", "no", "deny", False),
        ("what do you mean", "what do you mean", "nlu_fallback", None),
        ("maybe", "maybe", "nlu_fallback", None),
    ],
)
def test_the_yes_or_no_is_read(value: str, text: str, intent: str, expected: bool | None) -> None:
    assert rr.read_consent(value, text, intent) is expected


@pytest.mark.parametrize("typed", ["no", "No note", "skip", "nothing.", "no thanks", "  "])
def test_the_note_can_be_skipped(typed: str) -> None:
    assert rr.read_note(typed, typed, "nlu_fallback") == rr.NoteReading(note="")


def test_the_note_is_kept_in_the_users_words_within_its_limit() -> None:
    assert rr.read_note("skip", '/give_answer{"answer": "skip"}', "give_answer").note == ""
    said = "  You sent me crisis lines when I was joking about pizza.  "
    assert rr.read_note(said, said, "nlu_fallback") == rr.NoteReading(note=said.strip())
    assert rr.read_note("yes", "yes", "affirm").hint == "hints.note_go_ahead"
    long = "x" * (rr.NOTE_LIMIT + 1)
    assert rr.read_note(long, long, "nlu_fallback") == rr.NoteReading(hint="hints.note_too_long")
    exact = "y" * rr.NOTE_LIMIT
    assert rr.read_note(exact, exact, "nlu_fallback").note == exact


def test_the_words_load_and_fill_in() -> None:
    texts = rr.texts()
    assert "“Thank you for telling me”" in texts.text("intro", quote="Thank you for telling me")
    assert str(rr.NOTE_LIMIT) in texts.text("ask.report_note", limit=rr.NOTE_LIMIT)
    consent = texts.text("ask.report_consent")
    # What is kept is said before the yes: which reply, the date, an optional note, nothing else.
    for words in ("which reply", "date", "note", "Nothing else", "delete my data"):
        assert words in consent


def _examples() -> list[str]:
    data = yaml.safe_load((REPO_ROOT / "data" / "nlu" / "report_reply.yml").read_text("utf-8"))
    [block] = [item for item in data["nlu"] if item["intent"] == rr.INTENT]
    return [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]


def test_asking_to_report_a_reply_is_not_a_crisis() -> None:
    examples = _examples()
    assert len(examples) >= 40
    assert [text for text in examples if safety.detect(text).is_crisis] == []
    titles = [rr.texts().text(f"buttons.{key}") for key in ("report_it", "leave_it", "no_note")]
    assert [title for title in titles if safety.detect(title).is_crisis] == []
