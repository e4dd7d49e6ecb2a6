"""What the form kit does the same way in every exercise, checked on each skill's own validator."""

from __future__ import annotations

import pytest

from actions import boundaries, reflection, safety_plan, values, voice_check, wise_mind
from bot import dialogue as kit
from tests.actions.sdk_forms import form_tracker, run_validator, texts_of


@pytest.mark.parametrize(
    ("validator", "slot", "request_intent"),
    [
        (boundaries.ValidateBoundaryForm, "bs_express", "start_wise_mind"),
        (wise_mind.ValidateWiseMindForm, "wm_note", "start_roleplay"),
        (safety_plan.ValidateSafetyPlanForm, "sp_helpers", "start_roleplay"),
        (values.ValidateValuesForm, "value_area", "start_roleplay"),
        (voice_check.ValidateVoiceCheckForm, "voice_topic", "start_roleplay"),
        (reflection.ValidateDependencyReflectionForm, "reflection_done", "start_roleplay"),
    ],
)
def test_a_menu_button_mid_form_is_not_an_answer(
    validator: type[kit.ExerciseValidator], slot: str, request_intent: str
) -> None:
    button = f"/{request_intent}"
    skill = validator.skill
    t = form_tracker(
        "menu-tester", "rest", skill.form, text=button, intent=request_intent, requested=slot
    )
    result, dispatcher = run_validator(validator(), slot, button, t)
    assert result == {slot: None, "form_hint": slot}
    assert texts_of(dispatcher) == [skill.texts().text("hints.finish_this_first")]
