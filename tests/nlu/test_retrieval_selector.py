"""The retrieval-only ResponseSelector answers `learn` questions and skips everything else.

Uses the trained model (``make pytest`` trains it first).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

# Loads the trained model (models/secure-base.tar.gz).
pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "secure-base.tar.gz"


def test_only_retrieval_intents_get_a_selected_response() -> None:
    from rasa.core.agent import load_agent

    assert MODEL.exists(), "no trained model: run `make model` (make pytest does) first"

    async def parse(texts: list[str]) -> list[dict]:
        agent = await load_agent(model_path=str(MODEL))
        return [await agent.parse_message(text) for text in texts]

    learn, other = asyncio.run(parse(["what is codependency?", "hi there"]))
    assert learn["intent"]["name"] == "learn"
    chosen = learn["response_selector"]["default"]["response"]
    assert chosen["utter_action"] == "utter_learn/codependency"
    assert other["intent"]["name"] == "greet"
    assert "default" not in other.get("response_selector", {})
