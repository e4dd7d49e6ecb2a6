"""The safety plan's actions on hand-built trackers, with a real (temporary) SQLite journal."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import safety_plan as actions
from bot.exercises import safety_plan as sp
from bot.journal import repository as journal
from bot.journal import session_scope
from bot.safety import resources
from tests.actions.sdk_forms import form_tracker, texts_of, validate_answer
from tests.actions.sdk_forms import run_action as run
from tests.conftest import agree_to_keeping

SENDER = "plan-tester"
CHANNEL = "rest"
FULL_PLAN = {
    "sp_warning_signs": "can't sleep\npulling away from friends",
    "sp_coping": "a walk\nmy playlist",
    "sp_social": "the library\nmy cousin Sam",
    "sp_helpers": "Mia, 07700 900123",
    "sp_professionals": "Dr Patel (GP) 020 7946 0000",
    "sp_surroundings": "helper",
}


@pytest.fixture
def kept(journal_db: str) -> str:
    """A user who said yes to keeping their answers."""
    agree_to_keeping(journal_db, CHANNEL, SENDER)
    return journal_db


def tracker(slots: dict[str, Any] | None = None, **turn: Any) -> Tracker:
    return form_tracker(SENDER, CHANNEL, actions.FORM, slots, **turn)


def validate(slot: str, value: Any, **kwargs: Any) -> tuple[dict, CollectingDispatcher]:
    return validate_answer(actions.ValidateSafetyPlanForm(), tracker, slot, value, **kwargs)


def stored_plan() -> dict[str, Any] | None:
    with session_scope() as session:
        return journal.safety_plan_of(session, CHANNEL, f"{CHANNEL}:{SENDER}")


def save_full_plan() -> None:
    events, _ = run(actions.ActionSaveSafetyPlan(), tracker(FULL_PLAN))
    assert SlotSet("sp_coping", None) in events


# --- answers ----------------------------------------------------------------------------------


def test_an_answer_is_kept_as_items_in_the_users_words() -> None:
    result, dispatcher = validate("sp_coping", "  a walk, my playlist\n- a hot shower  ")
    assert result == {"sp_coping": "a walk\nmy playlist\na hot shower"}
    assert dispatcher.messages == []


def test_a_contact_keeps_its_comma() -> None:
    result, _ = validate("sp_helpers", "Mia, 07700 900123\nDad, 07700 900456")
    assert result == {"sp_helpers": "Mia, 07700 900123\nDad, 07700 900456"}


@pytest.mark.parametrize("typed", ["skip", "Skip for now", "pass", "not now", "none"])
def test_a_typed_skip_leaves_the_step_empty(typed: str) -> None:
    result, dispatcher = validate("sp_social", typed)
    assert result == {"sp_social": ""}
    assert dispatcher.messages == []


@pytest.mark.parametrize("typed", ["yes", "ok", "Sure!", "sounds good"])
def test_a_go_ahead_is_not_kept_as_an_item(typed: str) -> None:
    # Tried as a new user: "yes" after the intro became warning sign number one.
    result, dispatcher = validate("sp_warning_signs", typed)
    assert result == {"sp_warning_signs": None, "form_hint": "sp_warning_signs"}
    assert texts_of(dispatcher) == [sp.texts().text("hints.go_ahead")]


def test_the_skip_button_leaves_the_step_empty() -> None:
    payload = '/give_answer{"answer": "skip"}'
    result, _ = validate("sp_warning_signs", "skip", text=payload, intent="give_answer")
    assert result == {"sp_warning_signs": ""}


def test_an_over_long_answer_is_asked_again_with_the_limit_and_nothing_is_cut() -> None:
    result, dispatcher = validate("sp_coping", "walk " * 200)
    assert result == {"sp_coping": None, "form_hint": "sp_coping"}
    assert texts_of(dispatcher) == [sp.texts().text("hints.too_long", limit=sp.ANSWER_LIMIT)]
    # The hint keeps the Skip button of the question.
    assert dispatcher.messages[0]["buttons"][0]["payload"].endswith('"skip"}')


def test_too_many_items_are_asked_again() -> None:
    result, dispatcher = validate("sp_coping", "a, b, c, d, e, f, g")
    assert result == {"sp_coping": None, "form_hint": "sp_coping"}
    assert texts_of(dispatcher) == [sp.texts().text("hints.too_many", limit=sp.MAX_ITEMS)]


@pytest.mark.parametrize(
    ("typed", "choice"),
    [
        ("done", "done"),
        ("helper", "helper"),
        ("later", "later"),
        ("yes", "done"),
        ("not yet", "later"),
    ],
)
def test_step_six_keeps_a_choice(typed: str, choice: str) -> None:
    result, dispatcher = validate("sp_surroundings", typed)
    assert result == {"sp_surroundings": choice}
    assert dispatcher.messages == []


def test_step_six_never_keeps_or_repeats_what_was_typed() -> None:
    words = "I will put the things away in the locked box at my brother's"
    result, dispatcher = validate("sp_surroundings", words)
    assert result == {"sp_surroundings": "done"}
    assert texts_of(dispatcher) == [sp.texts().text("surroundings_typed")]
    assert "locked" not in " ".join(texts_of(dispatcher))


def test_step_six_unclear_gets_its_buttons_again() -> None:
    result, dispatcher = validate("sp_surroundings", "hmm")
    assert result == {"sp_surroundings": None, "form_hint": "sp_surroundings"}
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert [p.split('"')[-2] for p in payloads] == list(sp.SURROUNDINGS_CHOICES)


def test_on_resume_earlier_answers_are_kept_silently() -> None:
    dispatcher = CollectingDispatcher()
    form = actions.ValidateSafetyPlanForm()
    t = tracker(text="let's continue", intent="resume_exercise", requested=None)
    assert form.validate_sp_coping("a walk", dispatcher, t, {}) == {"sp_coping": "a walk"}
    assert dispatcher.messages == []


# --- questions ---------------------------------------------------------------------------------


def test_each_step_is_asked_with_a_skip_button() -> None:
    _, dispatcher = run(actions.ActionAskSpWarningSigns(), tracker())
    assert texts_of(dispatcher) == [sp.texts().text("ask.sp_warning_signs")]
    assert dispatcher.messages[0]["buttons"][0]["title"] == sp.texts().text("buttons.skip")


@pytest.mark.parametrize("region", ["UK", "AU", None])
def test_step_five_starts_from_the_lines_of_the_users_region(region: str | None) -> None:
    _, dispatcher = run(actions.ActionAskSpProfessionals(), tracker({"region": region}))
    question = texts_of(dispatcher)[0]
    for line in resources.crisis_lines(region):
        assert f"• {line}" in question
    anywhere = sp.texts().template("ask.sp_professionals_anywhere").split("\n")[1]
    assert (anywhere in question) is (region is None)


def test_step_six_is_the_reviewed_prompt_with_three_choices() -> None:
    _, dispatcher = run(actions.ActionAskSpSurroundings(), tracker())
    assert texts_of(dispatcher) == [sp.texts().text("ask.sp_surroundings")]
    assert len(dispatcher.messages[0]["buttons"]) == 3


def test_why_names_the_source_for_each_step() -> None:
    for s in sp.STEPS:
        _, dispatcher = run(actions.ActionExplainSafetyPlanStep(), tracker(requested=s.slot))
        assert texts_of(dispatcher) == [sp.texts().text(f"why.{s.slot}")]
        assert "Stanley" in texts_of(dispatcher)[0]


# --- saving, showing, editing ------------------------------------------------------------------


def test_the_finished_plan_is_kept_and_shown_in_one_message(kept: str) -> None:
    events, dispatcher = run(actions.ActionSaveSafetyPlan(), tracker(FULL_PLAN))
    plan = stored_plan()
    assert plan == {
        "warning_signs": ["can't sleep", "pulling away from friends"],
        "coping": ["a walk", "my playlist"],
        "social": ["the library", "my cousin Sam"],
        "helpers": ["Mia, 07700 900123"],
        "professionals": ["Dr Patel (GP) 020 7946 0000"],
        "surroundings": "helper",
    }
    summary = texts_of(dispatcher)[0]
    assert summary == sp.summary_text(plan, resources.crisis_lines(None))
    assert "• Mia, 07700 900123" in summary
    assert sp.texts().text("summary.saved") in texts_of(dispatcher)
    assert SlotSet("sp_editing", False) in events


def test_without_consent_the_plan_is_shown_not_kept(journal_db: str) -> None:
    _, dispatcher = run(actions.ActionSaveSafetyPlan(), tracker(FULL_PLAN))
    assert stored_plan() is None
    assert [m.get("response") for m in dispatcher.messages if m.get("response")] == [
        "utter_journal_not_kept_ask"
    ]
    assert "• a walk" in texts_of(dispatcher)[0]


def test_with_the_journal_down_the_plan_is_still_shown(unreachable_journal: str) -> None:
    _, dispatcher = run(actions.ActionSaveSafetyPlan(), tracker(FULL_PLAN))
    assert "utter_journal_unavailable" in [m.get("response") for m in dispatcher.messages]
    assert "• a walk" in texts_of(dispatcher)[0]


def test_skipped_steps_are_said_as_skipped(kept: str) -> None:
    run(
        actions.ActionSaveSafetyPlan(),
        tracker({**FULL_PLAN, "sp_social": "", "sp_surroundings": ""}),
    )
    plan = stored_plan()
    assert plan["social"] == [] and plan["surroundings"] is None
    assert sp.texts().text("summary.skipped") in sp.summary_text(plan, [])


def test_show_without_a_plan_offers_to_make_one(kept: str) -> None:
    _, dispatcher = run(actions.ActionShowSafetyPlan(), tracker(intent="show_safety_plan"))
    assert texts_of(dispatcher) == [sp.texts().text("show.none")]
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/start_safety_plan"


def test_show_gives_the_plan_and_a_button_per_step(kept: str) -> None:
    save_full_plan()
    _, dispatcher = run(actions.ActionShowSafetyPlan(), tracker(intent="show_safety_plan"))
    assert texts_of(dispatcher)[0] == sp.summary_text(stored_plan(), resources.crisis_lines(None))
    payloads = [b["payload"] for b in dispatcher.messages[1]["buttons"]]
    assert payloads[3] == '/edit_safety_plan{"plan_step":"4"}'


def test_another_users_plan_is_never_shown(kept: str) -> None:
    save_full_plan()
    other = form_tracker("someone-else", CHANNEL, None, intent="show_safety_plan")
    _, dispatcher = run(actions.ActionShowSafetyPlan(), other)
    assert texts_of(dispatcher) == [sp.texts().text("show.none")]


@pytest.mark.parametrize(
    ("text", "entities", "number"),
    [
        ("edit step 4", [], 4),
        ("change my warning signs", [], 1),
        ('/edit_safety_plan{"plan_step":"2"}', [{"entity": "plan_step", "value": "2"}], 2),
    ],
)
def test_edit_asks_that_step_alone(kept: str, text: str, entities: list, number: int) -> None:
    save_full_plan()
    t = tracker(text=text, intent="edit_safety_plan", entities=entities)
    events, dispatcher = run(actions.ActionEditSafetyPlan(), t)
    assert texts_of(dispatcher) == [sp.texts().text("edit.start", number=number)]
    assert SlotSet("sp_edit_step", number) in events and SlotSet("sp_editing", True) in events
    form = actions.ValidateSafetyPlanForm()
    edited = tracker({"sp_edit_step": number, "sp_editing": True})
    slots = asyncio.run(form.required_slots(list(sp.SLOTS), CollectingDispatcher(), edited, {}))
    assert slots == [sp.step(number).slot]


def test_an_unknown_step_is_said_clearly_and_nothing_starts(kept: str) -> None:
    save_full_plan()
    t = tracker(text="edit step 9", intent="edit_safety_plan")
    events, dispatcher = run(actions.ActionEditSafetyPlan(), t)
    assert texts_of(dispatcher) == [sp.texts().text("edit.unknown", number=9)]
    assert len(dispatcher.messages[0]["buttons"]) == 6
    assert SlotSet("sp_editing", False) in events
    assert stored_plan()["coping"] == ["a walk", "my playlist"]


def test_edit_without_a_plan_offers_to_make_one(kept: str) -> None:
    events, dispatcher = run(
        actions.ActionEditSafetyPlan(), tracker(text="edit step 2", intent="edit_safety_plan")
    )
    assert texts_of(dispatcher) == [sp.texts().text("edit.no_plan")]
    assert SlotSet("sp_editing", False) in events


def test_an_edited_step_replaces_only_that_step(kept: str) -> None:
    save_full_plan()
    t = tracker({"sp_edit_step": 4, "sp_editing": True, "sp_helpers": "Jo 07700 900999"})
    _, dispatcher = run(actions.ActionSaveSafetyPlan(), t)
    plan = stored_plan()
    assert plan["helpers"] == ["Jo 07700 900999"]
    assert plan["coping"] == ["a walk", "my playlist"]
    assert texts_of(dispatcher)[0] == sp.texts().text("edit.saved", number=4)


def test_a_skipped_edit_changes_nothing(kept: str) -> None:
    save_full_plan()
    t = tracker({"sp_edit_step": 2, "sp_editing": True, "sp_coping": ""})
    _, dispatcher = run(actions.ActionSaveSafetyPlan(), t)
    assert stored_plan()["coping"] == ["a walk", "my playlist"]
    assert texts_of(dispatcher) == [sp.texts().text("edit.unchanged", number=2)]


def test_a_new_plan_says_it_replaces_the_old_one(kept: str) -> None:
    save_full_plan()
    _, dispatcher = run(actions.ActionStartSafetyPlan(), tracker(intent="start_safety_plan"))
    assert texts_of(dispatcher) == [sp.texts().text("intro"), sp.texts().text("replaces")]


# --- the offer after "I'm safe" ----------------------------------------------------------------


def test_the_offer_is_made_once_to_someone_without_a_plan(kept: str) -> None:
    events, dispatcher = run(actions.ActionOfferSafetyPlan(), tracker())
    assert texts_of(dispatcher) == [sp.texts().text("offer")]
    assert events == [SlotSet("sp_offered", True)]
    events, dispatcher = run(actions.ActionOfferSafetyPlan(), tracker({"sp_offered": True}))
    assert (events, dispatcher.messages) == ([], [])


def test_no_offer_to_someone_who_has_a_plan(kept: str) -> None:
    save_full_plan()
    events, dispatcher = run(actions.ActionOfferSafetyPlan(), tracker())
    assert (events, dispatcher.messages) == ([], [])


def test_no_offer_and_no_error_when_the_journal_is_down(unreachable_journal: str) -> None:
    events, dispatcher = run(actions.ActionOfferSafetyPlan(), tracker())
    assert (events, dispatcher.messages) == ([], [])


# --- pinning on Telegram -----------------------------------------------------------------------


def _telegram(slots: dict[str, Any] | None = None, **turn: Any) -> Tracker:
    return form_tracker(SENDER, "telegram", None, slots, **turn)


def test_on_telegram_a_saved_plan_offers_to_be_pinned(journal_db: str) -> None:
    agree_to_keeping(journal_db, "telegram", SENDER)
    _, dispatcher = run(actions.ActionSaveSafetyPlan(), _telegram(FULL_PLAN))
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons", [])]
    assert "/pin_safety_plan" in payloads


def test_elsewhere_no_pin_button(kept: str) -> None:
    _, dispatcher = run(actions.ActionSaveSafetyPlan(), tracker(FULL_PLAN))
    payloads = [b["payload"] for m in dispatcher.messages for b in m.get("buttons", [])]
    assert "/pin_safety_plan" not in payloads


def test_pin_sends_the_plan_for_the_channel_to_pin(journal_db: str) -> None:
    agree_to_keeping(journal_db, "telegram", SENDER)
    run(actions.ActionSaveSafetyPlan(), _telegram(FULL_PLAN))
    _, dispatcher = run(actions.ActionPinSafetyPlan(), _telegram(intent="pin_safety_plan"))
    pinned = dispatcher.messages[0]["custom"]["pin"]["text"]
    assert pinned.startswith(sp.texts().text("summary.title")) and "• a walk" in pinned
    assert texts_of(dispatcher) == [sp.texts().text("pin.done")]


def test_pin_outside_telegram_says_where_it_works(kept: str) -> None:
    save_full_plan()
    _, dispatcher = run(actions.ActionPinSafetyPlan(), tracker(intent="pin_safety_plan"))
    assert dispatcher.messages == [
        {**dispatcher.messages[0], "text": sp.texts().text("pin.elsewhere")}
    ]
    assert "custom" not in dispatcher.messages[0] or not dispatcher.messages[0]["custom"]


# --- a plan left part-way by a crisis answer ---------------------------------------------------

# Steps 1 and 2 answered, then a crisis message: the resources, and the form stopped by its rule.
CRISIS_STOP = (
    {"event": "active_loop", "name": actions.FORM},
    {"event": "action", "name": "utter_crisis_resources"},
    {"event": "action", "name": "action_deactivate_loop"},
    {"event": "active_loop", "name": None},
)
HALF_PLAN = {"sp_warning_signs": "can't sleep", "sp_coping": "a walk"}


def left_by_crisis(slots: dict[str, Any] | None = None, **turn: Any) -> Tracker:
    return form_tracker(SENDER, CHANNEL, None, slots, events=CRISIS_STOP, **turn)


def test_after_im_safe_a_plan_stopped_by_a_crisis_is_offered_to_go_on(kept: str) -> None:
    events, dispatcher = run(actions.ActionOfferSafetyPlan(), left_by_crisis(HALF_PLAN))
    assert texts_of(dispatcher) == [sp.texts().text("go_on.offer")]
    payloads = [b["payload"] for b in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/resume_exercise", "/deny"]
    assert events == []


def test_a_plan_stopped_before_any_answer_gets_the_usual_offer(kept: str) -> None:
    _, dispatcher = run(actions.ActionOfferSafetyPlan(), left_by_crisis({}))
    assert texts_of(dispatcher) == [sp.texts().text("offer")]


@pytest.mark.parametrize(
    "t",
    [
        left_by_crisis(HALF_PLAN, intent="start_safety_plan"),
        tracker({**HALF_PLAN, "paused_exercise": actions.FORM}, intent="start_safety_plan"),
    ],
    ids=["stopped by a crisis", "paused by stop"],
)
def test_making_a_plan_again_goes_on_with_the_unfinished_one(kept: str, t: Tracker) -> None:
    events, dispatcher = run(actions.ActionStartSafetyPlan(), t)
    assert texts_of(dispatcher) == [sp.texts().text("go_on.start")]
    assert not any(isinstance(e, dict) and e.get("name") in sp.SLOTS for e in events)


def test_an_edit_stopped_by_a_crisis_is_not_taken_for_a_new_plan(kept: str) -> None:
    t = left_by_crisis({"sp_coping": "a walk", "sp_editing": True}, intent="start_safety_plan")
    events, dispatcher = run(actions.ActionStartSafetyPlan(), t)
    assert texts_of(dispatcher) == [sp.texts().text("intro")]
    assert SlotSet("sp_coping", None) in events
