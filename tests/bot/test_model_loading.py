"""Loading the trained model without Rasa's training step predicts exactly what Rasa's way does.

Loads ``models/secure-base.tar.gz`` (``make pytest`` trains it first) twice in one process, once
each way, and compares the parse of every training example's first lines plus a few free texts:
intent, confidence, the top of the ranking and the retrieval (learn) answer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import model_loading

# Loads the trained model (models/secure-base.tar.gz).
pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "secure-base.tar.gz"
EXTRA = [
    "what is codependency",
    "where does wise mind come from",
    "my boss keeps calling me at night and I can't say no",
    "this commute is killing me",
    "I want to die",
]


def _texts() -> list[str]:
    """Four examples of every intent of each skill's file, one of each folded blind round's: every
    intent and topic is covered, and the count no longer grows by a hundred with each round."""
    texts = list(EXTRA)
    for path in sorted((REPO / "data" / "nlu").glob("*.yml")):
        per_intent = 1 if path.name.startswith("blind_round") else 4
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            examples = item.get("examples")
            if isinstance(examples, str):
                lines = [line[2:].strip() for line in examples.splitlines()]
                texts += [line for line in lines if line][:per_intent]
    return texts


def _parse_all(texts: list[str]) -> list[Any]:
    from rasa.core.agent import load_agent

    async def run() -> list[Any]:
        agent = await load_agent(model_path=str(MODEL))
        out = []
        for text in texts:
            parsed = await agent.parse_message(text)
            selector = {
                name: (
                    found.get("response", {}).get("utter_action"),
                    round(found.get("response", {}).get("confidence", 0.0), 5),
                )
                for name, found in parsed.get("response_selector", {}).items()
                if name != "all_retrieval_intents"
            }
            ranking = [(r["name"], round(r["confidence"], 5)) for r in parsed["intent_ranking"]]
            out.append((text, parsed["intent"]["name"], ranking[:5], selector))
        return out

    return asyncio.run(run())


def test_fast_loading_predicts_exactly_as_rasas_own_loading(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert MODEL.exists(), "no trained model: run `make model` (make pytest does) first"
    texts = _texts()
    assert len(texts) > 100
    was_installed = model_loading.installed()
    try:
        model_loading.uninstall()
        stock = _parse_all(texts)
        model_loading.install()
        assert model_loading.installed()
        fast = _parse_all(texts)
    finally:
        (model_loading.install if was_installed else model_loading.uninstall)()
    assert "loading the stock way" not in caplog.text, "the fast way fell back"
    differing = [(s, f) for s, f in zip(stock, fast, strict=True) if s != f]
    assert differing == []
    assert any(selector for *_, selector in fast), "the retrieval answers were compared too"
