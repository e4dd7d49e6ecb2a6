"""The trained model on a few messages: out of scope, unsure, unreadable.

Uses the trained model (``make pytest`` trains it first). The figures on whole sets are in
``make nlu-report``; these only pin the behaviour the conversation tests take as given
(tests/conversations/did_you_mean.yml).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.nlu.suggestions import offers

# Loads the trained model (models/secure-base.tar.gz).
pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "secure-base.tar.gz"


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict]:
    from rasa.core.agent import load_agent

    assert MODEL.exists(), "no trained model: run `make model` (make pytest does) first"
    texts = [
        "what's the weather like tomorrow",
        "can you do my maths homework",
        "I keep thinking about what she said",
        "🙂🙂🙂",
        "help me find my values",
    ]

    async def parse() -> dict[str, dict]:
        agent = await load_agent(model_path=str(MODEL))
        return {text: await agent.parse_message(text) for text in texts}

    return asyncio.run(parse())


@pytest.mark.parametrize(
    "text", ["what's the weather like tomorrow", "can you do my maths homework"]
)
def test_out_of_scope(parsed, text: str) -> None:
    assert parsed[text]["intent"]["name"] == "out_of_scope"


def test_an_unsure_message_gets_buttons(parsed) -> None:
    parse = parsed["I keep thinking about what she said"]
    assert parse["intent"]["name"] == "nlu_fallback"
    assert 1 <= len(offers(parse)) <= 3


def test_unreadable_input_gets_the_plain_fallback(parsed) -> None:
    parse = parsed["🙂🙂🙂"]
    assert parse["intent"]["name"] == "nlu_fallback"
    assert offers(parse) == []


def test_a_clear_request_is_routed_with_its_ranking(parsed) -> None:
    parse = parsed["help me find my values"]
    assert parse["intent"]["name"] == "start_values_exercise"
    assert parse["intent_ranking"][0]["name"] == "start_values_exercise"
    assert len(parse["intent_ranking"]) == 10
