"""The trained model on the safety plan: its requests are routed, and its answer buttons, typed
instead of tapped, stay answers (never a crisis, the check-in's "yes", or "stop").

Uses the trained model (``make pytest`` trains it first).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.exercises import safety_plan as sp

pytestmark = pytest.mark.model

MODEL = Path(__file__).resolve().parents[2] / "models" / "secure-base.tar.gz"
REQUESTS = {
    "make a safety plan": "start_safety_plan",
    "i think i need a safety plan": "start_safety_plan",
    "can we write down who i can call when things get bad": "start_safety_plan",
    "show my safety plan": "show_safety_plan",
    "whats in my plan again": "show_safety_plan",
    "edit step 4": "edit_safety_plan",
    "chnage my warning signs": "edit_safety_plan",
}
# Intents that would take a typed answer away from the form.
NOT_ANSWERS = {"crisis", "crisis_check_in", "check_in_yes", "stop_exercise", "ask_why"}
ANSWER_TITLES = ("skip", "thats_all", "surroundings_done", "surroundings_helper")


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict]:
    from rasa.core.agent import load_agent

    assert MODEL.exists(), "no trained model: run `make model` (make pytest does) first"
    titles = [sp.texts().text(f"buttons.{key}") for key in ANSWER_TITLES]

    async def parse() -> dict[str, dict]:
        agent = await load_agent(model_path=str(MODEL))
        return {text: await agent.parse_message(text) for text in [*REQUESTS, *titles]}

    return asyncio.run(parse())


@pytest.mark.parametrize(("text", "intent"), REQUESTS.items())
def test_plan_requests_are_routed(parsed, text: str, intent: str) -> None:
    assert parsed[text]["intent"]["name"] == intent


@pytest.mark.parametrize("key", ANSWER_TITLES)
def test_a_typed_button_title_stays_an_answer(parsed, key: str) -> None:
    assert parsed[sp.texts().text(f"buttons.{key}")]["intent"]["name"] not in NOT_ANSWERS
