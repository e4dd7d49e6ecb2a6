"""What "did you mean" offers when the classifier is unsure: the likeliest skills and topics.

Pure functions over a message's parse data (``tracker.latest_message`` in the action server,
``/model/parse`` or ``Agent.parse_message`` elsewhere), so the action (``actions/fallback.py``)
and the NLU report (``bot.nlu.report``) choose the same buttons. Nothing here imports Rasa.

- Unreadable input (marked by ``bot.nlu.input_guard``) gets no offers: the plain "I didn't
  follow" with the menu.
- Otherwise the ranking is read top down, past ``nlu_fallback``: every intent that starts a skill
  or answers a topic and is at least :data:`FLOOR` likely becomes a button (once per skill), at
  most :data:`MAX_OFFERS`. For the retrieval intent ``learn`` the topic the ResponseSelector chose
  is offered when it ran (the ranking's top was ``learn``), else the topic list.
- Nothing is learnt or stored: the buttons send ordinary payloads, read like any message.

Button titles and payloads are the menu's and the topic list's own (domain/_shared.yml,
domain/learn.yml); ``tests/nlu/test_suggestions.py`` checks they stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FALLBACK_INTENT = "nlu_fallback"
UNREADABLE_KEY = "input_unreadable"  # set (True) in the parse data by the input guard
MAX_OFFERS = 3
FLOOR = 0.1  # an intent less likely than this is not offered (0.05 offered noise for gibberish)


@dataclass(frozen=True)
class Offer:
    route: str  # the skill or topic: the intent, or "learn/<topic>"
    title: str
    payload: str

    def button(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


_SKILLS = {
    "start_values_exercise": Offer(
        "start_values_exercise", "Find my values", "/start_values_exercise"
    ),
    "start_voice_check": Offer("start_voice_check", "Whose voice is this?", "/start_voice_check"),
    "start_dependency_reflection": Offer(
        "start_dependency_reflection", "Codependency check-in", "/start_dependency_reflection"
    ),
    "start_wise_mind": Offer("start_wise_mind", "Wise-mind pause", "/start_wise_mind"),
    "start_boundary_script": Offer(
        "start_boundary_script", "Write a boundary script", "/start_boundary_script"
    ),
    "start_roleplay": Offer("start_roleplay", "Practise saying no", "/start_roleplay"),
    "start_safety_plan": Offer("start_safety_plan", "My safety plan", "/show_safety_plan"),
    "ask_topics": Offer("ask_topics", "Learn the ideas", "/ask_topics"),
}
# Intents that lead to the same skill as another one's button.
_SAME_AS = {
    "describe_dilemma": "start_wise_mind",
    "practise_script": "start_roleplay",
    "show_safety_plan": "start_safety_plan",
    "edit_safety_plan": "start_safety_plan",
}

_TOPICS = {
    key: Offer(f"learn/{key}", title, payload)
    for key, title, payload in (
        ("codependency", "What is codependency?", "What is codependency?"),
        ("healthy_dependency", "What is healthy dependency?", "What is healthy dependency?"),
        (
            "differences",
            "How do they differ?",
            "What is the difference between codependency and healthy dependency?",
        ),
        ("why_it_matters", "Why does it matter?", "Why does the difference matter?"),
        ("parasocial", "Parasocial codependency", "What is a parasocial relationship?"),
        ("wise_mind", "What is wise mind?", "What is wise mind?"),
        ("values", "What are values in ACT?", "What does ACT mean by values?"),
        ("sources", "Where do these ideas come from?", "Where do these ideas come from?"),
    )
}
LEARN_INTENT = "learn"
SOMETHING_ELSE = Offer("ask_help", "Something else", "/ask_help")


def skill_offers() -> dict[str, Offer]:
    """Every skill button (for tests and documentation)."""
    return dict(_SKILLS)


def topic_offers() -> dict[str, Offer]:
    return dict(_TOPICS)


def is_unreadable(parse: Mapping[str, Any]) -> bool:
    return parse.get(UNREADABLE_KEY) is True


def _selected_topic(parse: Mapping[str, Any]) -> str | None:
    selectors = parse.get("response_selector") or {}
    if not isinstance(selectors, Mapping):
        return None
    selected = selectors.get(LEARN_INTENT) or selectors.get("default") or {}
    response = selected.get("response") if isinstance(selected, Mapping) else None
    key = response.get("intent_response_key") if isinstance(response, Mapping) else None
    if isinstance(key, str) and key.startswith(LEARN_INTENT + "/"):
        return key.split("/", 1)[1]
    return None


def _offer_for(intent: str, parse: Mapping[str, Any]) -> Offer | None:
    if intent == LEARN_INTENT:
        topic = _selected_topic(parse)
        return _TOPICS.get(topic, _SKILLS["ask_topics"]) if topic else _SKILLS["ask_topics"]
    return _SKILLS.get(_SAME_AS.get(intent, intent))


def offers(parse: Mapping[str, Any], limit: int = MAX_OFFERS, floor: float = FLOOR) -> list[Offer]:
    """The buttons "did you mean" offers for this parse, likeliest first (maybe none)."""
    if is_unreadable(parse):
        return []
    chosen: list[Offer] = []
    ranking = parse.get("intent_ranking") or []
    for entry in ranking:
        if not isinstance(entry, Mapping):
            continue
        name, confidence = entry.get("name"), entry.get("confidence")
        if not isinstance(name, str) or name == FALLBACK_INTENT:
            continue
        if not isinstance(confidence, int | float) or confidence < floor:
            break  # the ranking is sorted: nothing further down is likelier
        offer = _offer_for(name, parse)
        if offer is not None and all(o.route != offer.route for o in chosen):
            chosen.append(offer)
            if len(chosen) >= limit:
                break
    return chosen
