"""The show_progress training examples and button titles are never read as a crisis, and the
intent is wired into the domain, the rules, the menu and the kit's list of requests."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot import safety
from bot.dialogue.texts import REQUEST_INTENTS, kit_texts
from bot.progress import pictures

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load(path: str) -> dict:
    return yaml.safe_load((REPO_ROOT / path).read_text("utf-8"))


def _examples() -> list[str]:
    [block] = [i for i in _load("data/nlu/progress.yml")["nlu"] if i["intent"] == "show_progress"]
    return [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]


def test_asking_for_progress_is_not_a_crisis() -> None:
    examples = _examples()
    assert len(examples) >= 50
    assert [text for text in examples if safety.detect(text).is_crisis] == []
    book = pictures.texts()
    titles = [book.text(f"buttons.{key}") for key in ("values", "wise_mind", "roleplay", "show")]
    assert [title for title in titles if safety.detect(title).is_crisis] == []


def test_the_examples_stay_apart_from_the_role_play_progress_question() -> None:
    roleplay = {
        line[2:].strip().casefold()
        for item in _load("data/nlu/roleplay.yml")["nlu"]
        if item.get("intent") == "ask_roleplay_progress"
        for line in item["examples"].splitlines()
        if line.strip()
    }
    assert roleplay and not roleplay & {text.casefold() for text in _examples()}


def test_the_intent_is_in_the_domain_rules_menu_and_kit() -> None:
    domain = _load("domain/progress.yml")
    assert domain["intents"] == ["show_progress"]
    assert domain["actions"] == ["action_show_progress"]
    [rule] = _load("data/rules/progress.yml")["rules"]
    assert rule["steps"] == [{"intent": "show_progress"}, {"action": "action_show_progress"}]
    menu = _load("domain/_shared.yml")["responses"]["utter_greet"][0]["buttons"]
    assert {"title": "My progress", "payload": "/show_progress"} in menu
    assert "show_progress" in REQUEST_INTENTS
    assert kit_texts().text("requests.show_progress")
