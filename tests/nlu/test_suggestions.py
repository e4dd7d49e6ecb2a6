""" "Did you mean" offers the likeliest skills and topics, never for unreadable input."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlu.suggestions import (
    FLOOR,
    SOMETHING_ELSE,
    UNREADABLE_KEY,
    offers,
    skill_offers,
    topic_offers,
)

REPO = Path(__file__).resolve().parents[2]


def _parse(*ranking: tuple[str, float], **extra) -> dict:
    entries = [{"name": n, "confidence": c} for n, c in ranking]
    return {"intent": entries[0], "intent_ranking": entries, **extra}


def _buttons(response: str, domain_file: str) -> list[dict]:
    domain = yaml.safe_load((REPO / "domain" / domain_file).read_text(encoding="utf-8"))
    return domain["responses"][response][0]["buttons"]


def test_skill_buttons_are_the_menus_own() -> None:
    menu = _buttons("utter_menu", "_shared.yml")
    for offer in skill_offers().values():
        assert offer.button() in menu, offer


def test_topic_buttons_are_the_topic_lists_own() -> None:
    topics = _buttons("utter_topics", "learn.yml")
    for key, offer in topic_offers().items():
        assert offer.button() in topics, offer
        assert (REPO / "domain" / "learn.yml").read_text().count(f"utter_learn/{key}:") == 1


def test_something_else_shows_the_menu() -> None:
    assert SOMETHING_ELSE.payload == "/ask_help"


def test_the_likeliest_skills_come_first_past_the_fallback() -> None:
    parse = _parse(
        ("nlu_fallback", 0.5),
        ("start_voice_check", 0.31),
        ("share_feeling", 0.2),
        ("start_values_exercise", 0.18),
        ("start_dependency_reflection", 0.1),
        ("start_wise_mind", 0.08),
    )
    assert [o.route for o in offers(parse)] == [
        "start_voice_check",
        "start_values_exercise",
        "start_dependency_reflection",
    ]
    assert len(offers(parse, limit=2)) == 2


def test_unlikely_intents_are_not_offered() -> None:
    parse = _parse(("nlu_fallback", 0.5), ("share_feeling", 0.6), ("start_wise_mind", FLOOR / 2))
    assert offers(parse) == []


def test_unreadable_input_gets_no_offers() -> None:
    parse = _parse(("nlu_fallback", 1.0), ("start_wise_mind", 0.9), **{UNREADABLE_KEY: True})
    assert offers(parse) == []


def test_intents_of_one_skill_are_offered_once() -> None:
    parse = _parse(
        ("nlu_fallback", 0.5), ("describe_dilemma", 0.3), ("start_wise_mind", 0.25), ("greet", 0.2)
    )
    assert [o.title for o in offers(parse)] == ["Wise-mind pause"]


def test_the_selected_topic_is_offered_for_learn() -> None:
    selector = {"default": {"response": {"intent_response_key": "learn/parasocial"}}}
    parse = _parse(
        ("nlu_fallback", 0.5),
        ("learn", 0.4),
        ("start_voice_check", 0.3),
        response_selector=selector,
    )
    assert [o.button() for o in offers(parse)] == [
        {"title": "Parasocial codependency", "payload": "What is a parasocial relationship?"},
        {"title": "Whose voice is this?", "payload": "/start_voice_check"},
    ]


@pytest.mark.parametrize("selector", [None, {}, {"default": {}}, {"default": {"response": 3}}])
def test_learn_without_a_topic_offers_the_topic_list(selector) -> None:
    parse = _parse(("nlu_fallback", 0.5), ("learn", 0.4), response_selector=selector)
    assert [o.payload for o in offers(parse)] == ["/ask_topics"]


@pytest.mark.parametrize(
    "parse",
    [{}, {"intent_ranking": None}, {"intent_ranking": ["x", {"name": 3}, {"name": "a"}]}],
)
def test_odd_parse_data_gives_no_offers(parse) -> None:
    assert offers(parse) == []
