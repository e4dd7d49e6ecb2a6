"""The three exercise forms are wired safely: every answer slot is guarded against crisis, "stop"
and "why?" messages, only fills while its own question is open, and every step has a question,
a validator and a "why?" answer."""

from __future__ import annotations

import inspect

import pytest
from rasa.shared.core.events import ActionExecuted, SlotSet
from rasa_sdk import Action
from rasa_sdk.executor import CollectingDispatcher

import actions.reflection
import actions.report_reply
import actions.safety_plan
import actions.values
import actions.voice_check
from tests.exercises.dialogue import REPO_ROOT, domain, domain_dict, sdk_tracker, user

FORMS = {
    "values_form": actions.values.ValidateValuesForm,
    "voice_check_form": actions.voice_check.ValidateVoiceCheckForm,
    "dependency_reflection_form": actions.reflection.ValidateDependencyReflectionForm,
    "safety_plan_form": actions.safety_plan.ValidateSafetyPlanForm,
    "report_reply_form": actions.report_reply.ValidateReportReplyForm,
}
# Forms whose "why?" is a kit.ExplainQuestion action (words in the skill's texts.yml) rather
# than an utter_why_<form> response.
WHY_ACTIONS = {
    "safety_plan_form": actions.safety_plan.ActionExplainSafetyPlanStep,
    "report_reply_form": actions.report_reply.ActionExplainReportReplyStep,
}
GUARDED_INTENTS = {"crisis", "crisis_check_in", "check_in_yes", "stop_exercise", "ask_why"}
ACTION_MODULES = (
    actions.values,
    actions.voice_check,
    actions.reflection,
    actions.safety_plan,
    actions.report_reply,
)


def _slot_forms() -> list[tuple[str, str]]:
    forms = domain_dict()["forms"]
    return [(form, slot) for form in FORMS for slot in forms[form]["required_slots"]]


@pytest.mark.parametrize(("form", "slot"), _slot_forms())
def test_answer_slots_never_store_a_crisis_stop_or_why_message(form: str, slot: str) -> None:
    mappings = domain_dict()["slots"][slot]["mappings"]
    assert mappings, slot
    for mapping in mappings:
        assert mapping["conditions"] == [{"active_loop": form, "requested_slot": slot}]
        if mapping["type"] == "from_text":
            assert GUARDED_INTENTS <= set(mapping["not_intent"]), slot
        else:
            assert mapping == {
                "type": "from_entity",
                "entity": "answer",
                "intent": "give_answer",
                "conditions": mapping["conditions"],
            }


@pytest.mark.parametrize(("form", "slot"), _slot_forms())
def test_every_step_has_a_question_and_a_validator(form: str, slot: str) -> None:
    ask = f"action_ask_{slot}"
    assert ask in domain().action_names_or_texts
    names = {
        cls().name()
        for module in ACTION_MODULES
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, Action)
        and cls.__module__ == module.__name__
        and not inspect.isabstract(cls)
    }
    assert ask in names
    assert f"validate_{form}" in names
    assert callable(getattr(FORMS[form], f"validate_{slot}", None))


@pytest.mark.parametrize("form", ["values_form", "voice_check_form"])
def test_why_has_an_answer_for_each_step(form: str) -> None:
    variations = domain().responses[f"utter_why_{form}"]
    steps = {
        condition["value"]
        for variation in variations
        for condition in variation.get("condition") or []
        if condition["name"] == "requested_slot"
    }
    assert steps == set(domain_dict()["forms"][form]["required_slots"])
    assert any(not variation.get("condition") for variation in variations)


@pytest.mark.parametrize("form", FORMS)
def test_each_form_has_stop_crisis_and_why_rules(form: str) -> None:
    import yaml

    rules = [
        rule
        for path in (REPO_ROOT / "data" / "rules").glob("*.yml")
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or [])
    ]
    mine = [r for r in rules if r.get("condition") == [{"active_loop": form}]]
    steps = [[next(iter(step.items())) for step in rule["steps"]] for rule in mine]
    assert [
        ("intent", "crisis"),
        ("action", "utter_crisis_resources"),
        ("action", "action_deactivate_loop"),
        ("active_loop", None),
    ] in steps
    assert [
        ("intent", "stop_exercise"),
        ("action", "action_pause_exercise"),
        ("action", "action_deactivate_loop"),
        ("active_loop", None),
    ] in steps
    why = WHY_ACTIONS[form]().name() if form in WHY_ACTIONS else f"utter_why_{form}"
    assert [
        ("intent", "ask_why"),
        ("action", why),
        ("action", form),
        ("active_loop", form),
    ] in steps


@pytest.mark.parametrize(
    ("form", "start_action"),
    [
        ("values_form", actions.values.ActionStartValuesExercise),
        ("voice_check_form", actions.voice_check.ActionStartVoiceCheck),
        ("dependency_reflection_form", actions.reflection.ActionStartDependencyReflection),
    ],
)
async def test_a_fresh_start_is_not_read_as_empty_answers(form: str, start_action: type) -> None:
    """The start action clears the slots; the form's first run must not hint about each one."""
    start = sdk_tracker([user("start", "start_values_exercise")])
    cleared = start_action().run(CollectingDispatcher(), start, domain_dict())
    tracker = sdk_tracker(
        [
            user("start", "start_values_exercise"),
            ActionExecuted(start_action().name()),
            *(SlotSet(e["name"], e["value"]) for e in cleared),
        ]
    )
    dispatcher = CollectingDispatcher()
    await FORMS[form]().run(dispatcher, tracker, domain_dict())
    assert dispatcher.messages == []
