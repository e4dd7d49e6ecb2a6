"""The wise-mind actions on trackers built from events, with a real (temporary) SQLite journal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import wise_mind as actions
from bot.dialogue.forms import long_date
from bot.exercises import wise_mind as wm
from bot.journal import db
from bot.journal import repository as journal
from tests.actions.sdk_forms import form_tracker, texts_of, validate_answer
from tests.conftest import journal_kept_for, user_who_agreed

REPO = Path(__file__).resolve().parents[2]
SENDER = "wise-mind-tester"
CHANNEL = "rest"


journal_db = journal_kept_for(CHANNEL, SENDER)


def tracker(slots: dict[str, Any] | None = None, **turn: Any) -> Tracker:
    return form_tracker(SENDER, CHANNEL, actions.FORM, slots, **turn)


def validate(slot: str, value: Any, **kwargs: Any) -> tuple[dict, CollectingDispatcher]:
    return validate_answer(actions.ValidateWiseMindForm(), tracker, slot, value, **kwargs)


# --- ratings ----------------------------------------------------------------------------


@pytest.mark.parametrize("slot", ["wm_distress_before", "wm_distress_after"])
def test_a_number_word_is_accepted(slot: str) -> None:
    result, dispatcher = validate(slot, "seven")
    assert result == {slot: 7}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("eleven", "hints.rating_out_of_range"),
        ("-3", "hints.rating_out_of_range"),
        ("minus three", "hints.rating_out_of_range"),
        ("a lot", "hints.rating_missing"),
        ("not sure", "hints.rating_missing"),
        ("6 or 7", "hints.rating_several"),
        ("6.5", "hints.rating_fraction"),
    ],
)
def test_an_unusable_rating_is_asked_again_with_a_hint(answer: str, hint: str) -> None:
    # The one rating reader of the kit: "minus three" is out of range (it used to be kept as 3).
    result, dispatcher = validate("wm_distress_before", answer)
    assert result == {"wm_distress_before": None, "form_hint": "wm_distress_before"}
    fields = {"number": answer} if hint.endswith("out_of_range") else {}
    assert texts_of(dispatcher) == [wm.texts().text(hint, **fields)]


def test_on_resume_earlier_answers_are_kept_silently() -> None:
    # Rasa re-validates pre-filled slots when a paused form is resumed (requested_slot is None).
    dispatcher = CollectingDispatcher()
    form = actions.ValidateWiseMindForm()
    t = tracker(text="let's continue", intent="resume_exercise", requested=None)
    assert form.validate_wm_distress_before(6, dispatcher, t, {}) == {"wm_distress_before": 6}
    assert form.validate_wm_intro("more", dispatcher, t, {}) == {"wm_intro": "more"}
    assert form.validate_wm_practice("stone", dispatcher, t, {}) == {"wm_practice": "stone"}
    assert dispatcher.messages == []


# --- explanation, practice choice, pacing ------------------------------------------------


def test_tell_me_more_shows_the_explanation() -> None:
    result, dispatcher = validate("wm_intro", "/affirm", intent="affirm")
    assert result == {"wm_intro": "more"}
    assert texts_of(dispatcher) == [wm.texts().text("explanation")]


def test_skip_goes_straight_on() -> None:
    result, dispatcher = validate("wm_intro", "/deny", intent="deny")
    assert result == {"wm_intro": "skip"}
    assert dispatcher.messages == []


def test_an_unclear_intro_answer_offers_the_buttons_again() -> None:
    result, dispatcher = validate("wm_intro", "banana")
    assert result == {"wm_intro": None, "form_hint": "wm_intro"}
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]


@pytest.mark.parametrize("practice", ["breathing", "stone", "question", "staircase", "pause"])
def test_each_practice_can_be_picked_by_its_button(practice: str) -> None:
    title = wm.practices().get(practice).title
    result, dispatcher = validate("wm_practice", title)
    assert result == {"wm_practice": practice, "wm_step_index": 0, "wm_step": None}
    assert title in texts_of(dispatcher)[0]


def test_surprise_me_never_picks_last_times_practice() -> None:
    for _ in range(30):
        result, _dispatcher = validate(
            "wm_practice", "surprise me", slots={"wm_last_practice": "stone"}
        )
        assert result["wm_practice"] != "stone"
        assert result["wm_practice"] in {p.id for p in wm.practices().practices}


def test_an_unknown_practice_shows_the_choices_again() -> None:
    result, dispatcher = validate("wm_practice", "hmm", slots={"wm_last_practice": "question"})
    assert result == {"wm_practice": None, "form_hint": "wm_practice"}
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert wm.practices().get("question").title not in payloads
    assert "surprise me" in payloads


def test_each_answer_moves_the_practice_on_by_one_step() -> None:
    practice = wm.practices().get("stone")
    index = 0
    shown = []
    while True:
        slots = {"wm_practice": "stone", "wm_step_index": index}
        dispatcher = CollectingDispatcher()
        actions.ActionAskWmStep().run(dispatcher, tracker(slots), {})
        shown.append(dispatcher.messages[0])
        result, _ = validate("wm_step", "next", slots=slots)
        if result["wm_step"] == actions.STEP_DONE:
            break
        assert result == {"wm_step": None, "wm_step_index": index + 1}
        index += 1
    assert [m["text"] for m in shown] == list(practice.steps)
    assert [m["buttons"][0]["title"] for m in shown][-1] == wm.texts().text("buttons.finish")
    assert {m["buttons"][0]["title"] for m in shown[:-1]} == {wm.texts().text("buttons.next")}


def test_wait_repeats_the_same_step() -> None:
    slots = {"wm_practice": "breathing", "wm_step_index": 2}
    result, dispatcher = validate("wm_step", "wait", slots=slots)
    assert result == {"wm_step": None}
    assert texts_of(dispatcher) == [wm.texts().text("hints.take_your_time")]


def test_the_note_can_be_skipped_or_written() -> None:
    assert validate("wm_note", "/deny", intent="deny")[0] == {"wm_note": ""}
    assert validate("wm_note", "nothing really")[0] == {"wm_note": ""}
    assert validate("wm_note", "  It is not my job\nto fix him ")[0] == {
        "wm_note": "It is not my job to fix him"
    }


def test_why_explains_the_current_step() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker({"wm_practice": "question"}, text="why?", intent="ask_why", requested="wm_step")
    actions.ActionExplainWiseMindStep().run(dispatcher, t, {})
    assert texts_of(dispatcher) == [wm.practices().get("question").why]
    dispatcher = CollectingDispatcher()
    t = tracker(text="why?", intent="ask_why", requested="wm_distress_before")
    actions.ActionExplainWiseMindStep().run(dispatcher, t, {})
    assert texts_of(dispatcher) == [wm.texts().text("why.wm_distress_before")]


def test_a_re_ask_after_a_hint_stays_quiet() -> None:
    hint = wm.texts().text("hints.rating_out_of_range", number="eleven")
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "eleven"},
        {"event": "slot", "name": "requested_slot", "value": "wm_distress_before"},
        {"event": "action", "name": actions.FORM},
        {"event": "bot", "text": hint},
        {"event": "slot", "name": "form_hint", "value": "wm_distress_before"},
    ]
    hinted = {"form_hint": "wm_distress_before"}
    dispatcher = CollectingDispatcher()
    actions.ActionAskWmDistressBefore().run(dispatcher, tracker(hinted, events=events), {})
    assert dispatcher.messages == []
    # A message of the validator that is not a hint ("Added honesty.") asks in full.
    dispatcher = CollectingDispatcher()
    actions.ActionAskWmDistressBefore().run(dispatcher, tracker(events=events[:-1]), {})
    assert texts_of(dispatcher) == [wm.texts().text("ask.wm_distress_before")]
    dispatcher = CollectingDispatcher()
    actions.ActionAskWmDistressBefore().run(dispatcher, tracker(), {})
    assert texts_of(dispatcher) == [wm.texts().text("ask.wm_distress_before")]


def test_lets_continue_mid_form_is_not_an_answer_and_the_question_comes_again() -> None:
    result, dispatcher = validate("wm_note", "let's continue", intent="resume_exercise")
    assert result == {"wm_note": None}
    assert dispatcher.messages == []
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "let's continue"},
        {"event": "slot", "name": "requested_slot", "value": "wm_note"},
        {"event": "action", "name": actions.FORM},
        {"event": "slot", "name": "wm_note", "value": None},
    ]
    asker = CollectingDispatcher()
    actions.ActionAskWmNote().run(asker, tracker(events=events), {})
    assert texts_of(asker) == [wm.texts().text("ask.wm_note")]


def test_continue_during_a_practice_moves_on() -> None:
    slots = {"wm_practice": "stone", "wm_step_index": 1}
    result, _ = validate("wm_step", "continue", slots=slots, intent="resume_exercise")
    assert result == {"wm_step": None, "wm_step_index": 2}


# --- the journal ----------------------------------------------------------------------------


def _finished(**overrides: Any) -> dict[str, Any]:
    slots = {
        "wm_distress_before": 7,
        "wm_intro": "skip",
        "wm_practice": "stone",
        "wm_step": actions.STEP_DONE,
        "wm_step_index": 6,
        "wm_note": "It isn't my job to rescue him",
        "wm_distress_after": 4,
    }
    slots.update(overrides)
    return slots


def test_the_practice_is_saved_with_before_after_and_note(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    events = actions.ActionSaveWiseMind().run(dispatcher, tracker(_finished()), {})

    with db.session_scope(journal_db) as session:
        user = journal.find_user(session, CHANNEL, SENDER)
        [entry] = journal.list_wise_mind_entries(session, user)
        saved = (entry.practice, entry.distress_before, entry.distress_after, entry.note)
        date = long_date(entry.created_at)
    assert saved == ("stone", 7, 4, "It isn't my job to rescue him")

    shown = texts_of(dispatcher)
    assert shown[0] == wm.texts().text("summary.lower", before=7, after=4)
    assert shown[1] == wm.texts().text("summary.saved", date=date)
    assert all(SlotSet(slot, None) in events for slot in actions.RESET_SLOTS)
    assert SlotSet("wm_last_practice", "stone") in events


def test_a_skipped_note_is_stored_as_no_note(journal_db: str) -> None:
    actions.ActionSaveWiseMind().run(CollectingDispatcher(), tracker(_finished(wm_note="")), {})
    with db.session_scope(journal_db) as session:
        user = journal.find_user(session, CHANNEL, SENDER)
        assert journal.list_wise_mind_entries(session, user)[0].note is None


def test_a_very_high_rating_after_points_to_crisis_lines(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    slots = _finished(wm_distress_before=6, wm_distress_after=9)
    actions.ActionSaveWiseMind().run(dispatcher, tracker(slots), {})
    assert texts_of(dispatcher)[0] == wm.texts().text("summary.higher", before=6, after=9)
    assert dispatcher.messages[1]["buttons"][0]["payload"] == "/crisis"


def test_the_next_offer_leaves_out_last_times_practice(journal_db: str) -> None:
    with db.session_scope(journal_db) as session:
        user = user_who_agreed(session, CHANNEL, SENDER)
        journal.add_wise_mind_entry(session, user, "breathing", 8, 5)
        journal.add_wise_mind_entry(session, user, "question", 6, 3)
    dispatcher = CollectingDispatcher()
    events = actions.ActionAskWmPractice().run(dispatcher, tracker(), {})
    assert events == [SlotSet("wm_last_practice", "question")]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert wm.practices().get("question").title not in payloads
    assert wm.practices().get("breathing").title in payloads
    assert dispatcher.messages[0]["text"] == wm.texts().text(
        "ask.wm_practice_after_last", last=wm.practices().get("question").title
    )


def test_a_new_user_is_offered_every_practice(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    events = actions.ActionAskWmPractice().run(dispatcher, tracker(), {})
    assert events == [SlotSet("wm_last_practice", None)]
    assert len(dispatcher.messages[0]["buttons"]) == len(wm.practices().practices) + 1


def test_with_the_journal_down_the_practice_still_finishes(unreachable_journal: str) -> None:
    dispatcher = CollectingDispatcher()
    events = actions.ActionSaveWiseMind().run(dispatcher, tracker(_finished()), {})
    responses = [m.get("response") for m in dispatcher.messages]
    assert "utter_journal_unavailable" in responses
    assert texts_of(dispatcher)[0] == wm.texts().text("summary.lower", before=7, after=4)
    assert SlotSet("wm_last_practice", "stone") in events


def test_with_the_journal_down_the_offer_falls_back_to_the_slot(unreachable_journal: str) -> None:
    dispatcher = CollectingDispatcher()
    events = actions.ActionAskWmPractice().run(
        dispatcher, tracker({"wm_last_practice": "stone"}), {}
    )
    assert events == [SlotSet("wm_last_practice", "stone")]


# --- wiring: the real domain and the whole validation action --------------------------------


def _domain() -> dict[str, Any]:
    return yaml.safe_load((REPO / "domain" / "wise_mind.yml").read_text(encoding="utf-8"))


def test_every_form_slot_has_a_validator_and_an_ask_action() -> None:
    domain = _domain()
    declared = set(domain["actions"])
    for slot in domain["forms"][actions.FORM]["required_slots"]:
        assert hasattr(actions.ValidateWiseMindForm, f"validate_{slot}")
        assert f"action_ask_{slot}" in declared
        for mapping in domain["slots"][slot]["mappings"]:
            assert {"crisis", "crisis_check_in", "stop_exercise", "ask_why"} <= set(
                mapping["not_intent"]
            )


async def test_the_validation_action_runs_on_the_real_domain() -> None:
    t = tracker(
        {"wm_distress_before": "eight"},
        text="eight",
        requested="wm_distress_before",
        events=[{"event": "slot", "name": "wm_distress_before", "value": "eight"}],
    )
    result = await actions.ValidateWiseMindForm().run(CollectingDispatcher(), t, _domain())
    assert SlotSet("wm_distress_before", 8) in result
