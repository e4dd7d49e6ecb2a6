"""action_did_you_mean: buttons for the likeliest skills, the plain fallback otherwise."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionDidYouMean


def _tracker(latest_message: dict) -> Tracker:
    return Tracker(
        sender_id="test",
        slots={},
        latest_message=latest_message,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def _run(latest_message: dict) -> tuple[list, list[dict]]:
    dispatcher = CollectingDispatcher()
    events = ActionDidYouMean().run(dispatcher, _tracker(latest_message), {})
    return events, dispatcher.messages


def test_unsure_offers_the_likeliest_skills_and_something_else() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.45},
        {"name": "start_values_exercise", "confidence": 0.4},
        {"name": "start_voice_check", "confidence": 0.3},
    ]
    events, [message] = _run({"text": "x", "intent": ranking[0], "intent_ranking": ranking})
    assert events == []  # nothing is set or learnt
    assert message["response"] == "utter_did_you_mean"
    assert [b["payload"] for b in message["buttons"]] == [
        "/start_values_exercise",
        "/start_voice_check",
        "/ask_help",
    ]


def test_unreadable_input_gets_the_plain_fallback() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 1.0},
        {"name": "start_values_exercise", "confidence": 0.9},
    ]
    events, [message] = _run(
        {"text": "🙂", "intent": ranking[0], "intent_ranking": ranking, "input_unreadable": True}
    )
    assert events == []
    assert message["response"] == "utter_default"
    assert not message.get("buttons")


def test_no_likely_skill_gets_the_plain_fallback() -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "greet", "confidence": 0.4}]
    _, [message] = _run({"text": "x", "intent": ranking[0], "intent_ranking": ranking})
    assert message["response"] == "utter_default"


def test_an_empty_latest_message_gets_the_plain_fallback() -> None:
    _, [message] = _run({})
    assert message["response"] == "utter_default"
