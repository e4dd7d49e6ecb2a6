"""The boundary-script actions on trackers built from events, with a real (temporary) journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import boundaries as actions
from bot.exercises import scripts as sc
from bot.journal import db
from bot.journal import repository as journal
from tests.actions.sdk_forms import form_tracker, run_validator, texts_of
from tests.conftest import journal_kept_for

REPO = Path(__file__).resolve().parents[2]
SENDER = "boundary-tester"
CHANNEL = "rest"

PARTS = {
    "bs_describe": "you've cancelled our plans three times this month",
    "bs_express": "hurt and a bit invisible",
    "bs_assert": "tell me by noon if you can't make it",
    "bs_reinforce": "that way we both enjoy the evenings we do have",
    "bs_priority": "relationship",
}


journal_db = journal_kept_for(CHANNEL, SENDER)


def tracker(
    slots: dict[str, Any] | None = None, active_loop: str | None = actions.FORM, **turn: Any
) -> Tracker:
    return form_tracker(SENDER, CHANNEL, active_loop, slots, **turn)


def validate(slot: str, text: str, **kwargs: Any) -> tuple[dict, CollectingDispatcher]:
    t = tracker(text=text, requested=slot, **kwargs)
    return run_validator(actions.ValidateBoundaryForm(), slot, text, t)


# --- the parts ------------------------------------------------------------------------------


def test_a_good_answer_is_kept_in_the_users_words() -> None:
    result, dispatcher = validate("bs_describe", "  he always   cancels\non the day ")
    assert result == {"bs_describe": "he always cancels on the day"}
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    ("slot", "answer", "hint"),
    [
        ("bs_describe", "mum", "too_short"),
        ("bs_describe", "what do you mean?", "question_back"),
        ("bs_express", "idk", "unsure"),
        ("bs_assert", "No", "too_short"),
        ("bs_assert", "   ", "empty"),
    ],
)
def test_a_bad_answer_gets_a_hint_with_an_example(slot: str, answer: str, hint: str) -> None:
    result, dispatcher = validate(slot, answer)
    assert result == {slot: None, "form_hint": slot}
    texts = sc.texts()
    assert texts_of(dispatcher) == [
        texts.text(f"hints.{hint}", example=texts.text(f"more_examples.{slot}"))
    ]


def test_a_very_long_answer_is_asked_to_be_shortened() -> None:
    result, dispatcher = validate("bs_describe", "word " * 500)
    assert result == {"bs_describe": None, "form_hint": "bs_describe"}
    assert texts_of(dispatcher) == [sc.texts().text("hints.too_long", limit=2000)]


def test_reinforce_can_be_skipped_by_button_or_words() -> None:
    assert validate("bs_reinforce", "/deny", intent="deny")[0] == {"bs_reinforce": ""}
    assert validate("bs_reinforce", "skip")[0] == {"bs_reinforce": ""}


def test_unsure_about_reinforce_offers_an_example_and_the_skip_button() -> None:
    result, dispatcher = validate("bs_reinforce", "I don't know")
    assert result == {"bs_reinforce": None, "form_hint": "bs_reinforce"}
    assert dispatcher.messages[0]["buttons"] == [
        {"title": sc.texts().text("buttons.skip_reinforce"), "payload": "/deny"}
    ]


def test_priority_from_the_buttons() -> None:
    texts = sc.texts()
    for priority in sc.PRIORITIES:
        payload = texts.text(f"priority_payloads.{priority}")
        assert validate("bs_priority", payload)[0] == {"bs_priority": priority}


def test_an_unclear_priority_shows_the_buttons_again() -> None:
    result, dispatcher = validate("bs_priority", "both really")
    assert result == {"bs_priority": None, "form_hint": "bs_priority"}
    assert len(dispatcher.messages[0]["buttons"]) == 2


def test_on_resume_or_edit_earlier_parts_are_kept_silently() -> None:
    dispatcher = CollectingDispatcher()
    form = actions.ValidateBoundaryForm()
    t = tracker(text="let's continue", intent="resume_exercise", requested=None)
    assert form.validate_bs_describe("mum", dispatcher, t, {}) == {"bs_describe": "mum"}
    assert form.validate_bs_priority("self_respect", dispatcher, t, {}) == {
        "bs_priority": "self_respect"
    }
    assert dispatcher.messages == []


def test_lets_continue_mid_form_is_not_stored() -> None:
    result, dispatcher = validate("bs_assert", "let's continue", intent="resume_exercise")
    assert result == {"bs_assert": None}
    assert dispatcher.messages == []


def test_why_explains_the_current_question() -> None:
    for slot in (*actions.PART_SLOTS, "bs_title"):
        dispatcher = CollectingDispatcher()
        t = tracker(text="why are you asking this?", intent="ask_why", requested=slot)
        actions.ActionExplainBoundaryStep().run(dispatcher, t, {})
        assert texts_of(dispatcher) == [sc.texts().text(f"why.{slot}")]


# --- the script ---------------------------------------------------------------------------


def test_the_script_is_shown_with_give_for_the_relationship() -> None:
    dispatcher = CollectingDispatcher()
    events = actions.ActionShowBoundaryScript().run(dispatcher, tracker(PARTS), {})
    texts = sc.texts()
    shown = texts_of(dispatcher)
    assert shown[0] == "\n".join(
        [
            texts.text("script.intro"),
            "",
            "You've cancelled our plans three times this month.",
            "I feel hurt and a bit invisible.",
            "I'm asking you to tell me by noon if you can't make it.",
            "That way we both enjoy the evenings we do have.",
        ]
    )
    assert shown[1] == texts.text("script.give")
    assert shown[2] == texts.text("script.tips")
    payloads = [b["payload"] for b in dispatcher.messages[3]["buttons"]]
    assert '/edit_script_part{"script_part":"express"}' in payloads
    assert "/save_script" in payloads
    assert all(len(b["title"]) <= 30 for b in dispatcher.messages[3]["buttons"])
    assert events == [SlotSet("bs_ready", True), SlotSet("bs_title", None)]


def test_self_respect_gets_fast_and_a_long_part_gets_a_note() -> None:
    slots = {**PARTS, "bs_priority": "self_respect", "bs_describe": "you keep asking " * 80}
    dispatcher = CollectingDispatcher()
    actions.ActionShowBoundaryScript().run(dispatcher, tracker(slots), {})
    shown = texts_of(dispatcher)
    assert shown[0].endswith(sc.texts().text("script.shortened_note"))
    assert shown[1] == sc.texts().text("script.fast")


# --- editing ------------------------------------------------------------------------------


def test_a_part_button_clears_only_that_part() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(
        PARTS,
        text='/edit_script_part{"script_part":"assert"}',
        intent="edit_script_part",
        entities=[{"entity": "script_part", "value": "assert"}],
        active_loop=None,
    )
    events = actions.ActionEditScriptPart().run(dispatcher, t, {})
    assert events == [SlotSet("bs_assert", None), SlotSet("bs_ready", False)]
    texts = sc.texts()
    assert texts_of(dispatcher) == [texts.text("edit.redo", part=texts.text("part_names.assert"))]


def test_natural_words_pick_the_part() -> None:
    t = tracker(PARTS, text="change the feeling part", intent="edit_script_part")
    events = actions.ActionEditScriptPart().run(CollectingDispatcher(), t, {})
    assert SlotSet("bs_express", None) in events


def test_an_unclear_edit_asks_which_part() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(PARTS, text="edit my script", intent="edit_script_part", active_loop=None)
    assert actions.ActionEditScriptPart().run(dispatcher, t, {}) == []
    assert texts_of(dispatcher) == [sc.texts().text("edit.which_part")]


def test_editing_with_no_script_starts_one() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker({}, text="edit the request", intent="edit_script_part", active_loop=None)
    assert actions.ActionEditScriptPart().run(dispatcher, t, {}) == [SlotSet("bs_ready", False)]
    assert texts_of(dispatcher) == [sc.texts().text("edit.no_script")]


# --- saving and listing -------------------------------------------------------------------


def _save(slots: dict[str, Any]) -> tuple[list, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    t = tracker(slots, text="Plans with Sam", active_loop=None)
    return actions.ActionSaveBoundaryScript().run(dispatcher, t, {}), dispatcher


def test_saving_stores_the_script_with_its_title(journal_db: str) -> None:
    events, dispatcher = _save({**PARTS, "bs_title": "Plans with Sam"})
    with db.session_scope(journal_db) as session:
        user = journal.find_user(session, CHANNEL, SENDER)
        [script] = journal.list_boundary_scripts(session, user)
        stored = (script.id, script.title, script.priority, script.assertion, script.text)
    script_id, title, priority, assertion, text = stored
    assert (title, priority, assertion) == (
        "Plans with Sam",
        "relationship",
        "tell me by noon if you can't make it",
    )
    assert text == sc.assemble(actions._parts(tracker(PARTS)), sc.phrasing()).text
    assert events == [SlotSet("bs_script_id", str(script_id))]
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons[0]["payload"] == "/practise_script" + json.dumps(
        {"script_id": str(script_id)}, separators=(",", ":")
    )
    assert texts_of(dispatcher) == [sc.texts().text("save.saved", title="Plans with Sam")]


def test_saving_again_after_an_edit_updates_the_same_script(journal_db: str) -> None:
    events, _ = _save({**PARTS, "bs_title": "Plans with Sam"})
    script_id = events[0]["value"]
    changed = {**PARTS, "bs_express": "lonely", "bs_title": "Sam", "bs_script_id": script_id}
    events, dispatcher = _save(changed)
    assert events == [SlotSet("bs_script_id", script_id)]
    assert texts_of(dispatcher) == [sc.texts().text("save.updated", title="Sam")]
    with db.session_scope(journal_db) as session:
        user = journal.find_user(session, CHANNEL, SENDER)
        [script] = journal.list_boundary_scripts(session, user)
        assert (str(script.id), script.title, script.express) == (script_id, "Sam", "lonely")
        assert "I feel lonely." in script.text


def test_a_skipped_reinforce_is_left_out_of_the_saved_text(journal_db: str) -> None:
    _save({**PARTS, "bs_reinforce": "", "bs_title": "No reinforce"})
    with db.session_scope(journal_db) as session:
        user = journal.find_user(session, CHANNEL, SENDER)
        [script] = journal.list_boundary_scripts(session, user)
        assert script.reinforce == actions.SKIPPED_PART
        assert len(script.text.splitlines()) == 3
        assert actions.SKIPPED_PART not in script.text


def test_with_the_journal_down_saving_says_so(unreachable_journal: str) -> None:
    events, dispatcher = _save({**PARTS, "bs_title": "Plans with Sam"})
    assert events == []
    assert [m.get("response") for m in dispatcher.messages] == ["utter_journal_unavailable"]


def test_show_my_scripts_lists_them_with_a_practise_button(journal_db: str) -> None:
    _save({**PARTS, "bs_title": "A very long title about plans with Sam and everything"})
    _save({**PARTS, "bs_title": "Mum and Christmas"})
    dispatcher = CollectingDispatcher()
    actions.ActionListBoundaryScripts().run(dispatcher, tracker(active_loop=None), {})
    shown = texts_of(dispatcher)
    assert shown[0] == sc.texts().text("list.header")
    assert shown[1].startswith("“Mum and Christmas”")
    assert "I feel hurt and a bit invisible." in shown[1]
    for message in dispatcher.messages[1:]:
        [button] = message["buttons"]
        assert button["payload"].startswith('/practise_script{"script_id":"')
        assert len(button["title"]) <= 30


def test_no_scripts_yet(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    actions.ActionListBoundaryScripts().run(dispatcher, tracker(active_loop=None), {})
    assert texts_of(dispatcher) == [sc.texts().text("list.none")]


# --- the title --------------------------------------------------------------------------------


def _title(text: str, slots: dict[str, Any] | None = None) -> tuple[dict, CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    t = tracker(
        {**PARTS, **(slots or {})},
        text=text,
        requested="bs_title",
        active_loop=actions.TITLE_FORM,
    )
    return actions.ValidateBoundaryTitleForm().validate_bs_title(text, dispatcher, t, {}), (
        dispatcher
    )


def test_a_typed_title_is_kept() -> None:
    assert _title("  Plans   with Sam ")[0] == {"bs_title": "Plans with Sam"}


def test_you_choose_takes_the_suggestion() -> None:
    assert _title("you choose")[0] == {"bs_title": "You've cancelled our…"}


def test_what_do_you_mean_offers_the_suggestion_again() -> None:
    result, dispatcher = _title("what do you mean?")
    assert result == {"bs_title": None, "form_hint": "bs_title"}
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "You've cancelled our…"


def test_the_title_of_a_saved_script_is_offered_again(journal_db: str) -> None:
    events, _ = _save({**PARTS, "bs_title": "Plans with Sam"})
    dispatcher = CollectingDispatcher()
    t = tracker({**PARTS, "bs_script_id": events[0]["value"]}, active_loop=actions.TITLE_FORM)
    actions.ActionAskBsTitle().run(dispatcher, t, {})
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "Plans with Sam"


# --- wiring -------------------------------------------------------------------------------------


def _domain() -> dict[str, Any]:
    return yaml.safe_load((REPO / "domain" / "boundaries.yml").read_text(encoding="utf-8"))


def test_every_form_slot_has_a_validator_an_ask_action_and_the_crisis_guard() -> None:
    domain = _domain()
    declared = set(domain["actions"])
    for form, validator in (
        (actions.FORM, actions.ValidateBoundaryForm),
        (actions.TITLE_FORM, actions.ValidateBoundaryTitleForm),
    ):
        assert f"validate_{form}" in declared
        for slot in domain["forms"][form]["required_slots"]:
            assert hasattr(validator, f"validate_{slot}")
            assert f"action_ask_{slot}" in declared
            for mapping in domain["slots"][slot]["mappings"]:
                guard = {
                    "crisis",
                    "crisis_check_in",
                    "stop_exercise",
                    "ask_why",
                    "edit_script_part",
                }
                assert guard <= set(mapping["not_intent"])


def test_start_clears_an_earlier_script_and_its_pause() -> None:
    t = tracker({**PARTS, "paused_exercise": actions.FORM}, active_loop=None)
    events = actions.ActionStartBoundaryScript().run(CollectingDispatcher(), t, {})
    assert SlotSet("bs_describe", None) in events
    assert SlotSet("bs_script_id", None) in events
    assert SlotSet("bs_ready", False) in events
    assert SlotSet("paused_exercise", None) in events
