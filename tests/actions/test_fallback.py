"""action_did_you_mean: buttons for the likeliest skills, the plain fallback otherwise; and
action_share_feeling: the acknowledgement with the exercises that fit, the menu otherwise."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDidYouMean, ActionShareFeeling
from tests.conftest import make_tracker


def _run(latest_message: dict, action=ActionDidYouMean) -> tuple[list, list[dict]]:
    tracker = make_tracker()
    tracker.latest_message = latest_message  # the NLU's whole answer, ranking and all
    dispatcher = CollectingDispatcher()
    events = action().run(dispatcher, tracker, {})
    return events, dispatcher.messages


def _answer(ranking: list[dict], text: str = "x", **more: object) -> dict:
    """The NLU's answer with this ranking: its first intent is the one predicted."""
    return {"text": text, "intent": ranking[0], "intent_ranking": ranking, **more}


def _payloads(message: dict) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


def test_a_shared_feeling_is_offered_the_exercises_that_fit_it() -> None:
    # The ranking of "I feel like I lost myself, it is all about my boyfriend now" (issue 15,
    # point 5): heard, and offered values and the codependency check-in, not all seven buttons.
    ranking = [
        {"name": "share_feeling", "confidence": 0.76},
        {"name": "start_values_exercise", "confidence": 0.142},
        {"name": "start_dependency_reflection", "confidence": 0.071},
        {"name": "start_voice_check", "confidence": 0.01},
    ]
    events, [message] = _run(_answer(ranking), ActionShareFeeling)
    assert events == []
    assert message["response"] == "utter_share_feeling_offer"
    assert _payloads(message) == [
        "/start_values_exercise",
        "/start_dependency_reflection",
        "/ask_help",
    ]


def test_a_shared_feeling_with_no_likely_exercise_gets_the_menu() -> None:
    ranking = [{"name": "share_feeling", "confidence": 0.97}, {"name": "greet", "confidence": 0.02}]
    _, [message] = _run(_answer(ranking), ActionShareFeeling)
    assert message["response"] == "utter_share_feeling"


def test_unsure_offers_the_likeliest_skills_and_something_else() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "start_values_exercise", "confidence": 0.4},
        {"name": "start_voice_check", "confidence": 0.3},
    ]
    events, [message] = _run(_answer(ranking))
    assert events == []  # nothing is set or learnt
    assert message["response"] == "utter_did_you_mean"
    assert _payloads(message) == [
        "/start_values_exercise",
        "/start_voice_check",
        "/ask_help",
    ]


def test_unreadable_input_gets_the_plain_fallback() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 1.0},
        {"name": "start_values_exercise", "confidence": 0.9},
    ]
    events, [message] = _run(_answer(ranking, "🙂", input_unreadable=True))
    assert events == []
    assert message["response"] == "utter_default"
    assert not message.get("buttons")


def test_no_likely_skill_gets_the_plain_fallback() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "greet", "confidence": 0.4}]
    _, [message] = _run(_answer(ranking))
    assert message["response"] == "utter_default"


def test_an_empty_latest_message_gets_the_plain_fallback() -> None:
    _, [message] = _run({})
    assert message["response"] == "utter_default"
