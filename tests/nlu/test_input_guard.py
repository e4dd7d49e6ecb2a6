"""The input guard turns unreadable input into an honest fallback instead of a confident guess."""

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.input_guard import InputGuard, InputGuardConfigError, is_unreadable


def _message(text: str, intent: str = "greet", confidence: float = 0.97) -> Message:
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": intent, "confidence": confidence}])
    return message


@pytest.mark.parametrize(
    "text",
    ["", "   ", "🙂🙂🙂", "?!...", "\u200f\u200e", "a" * 4001, "word " * 1000],
)
def test_unreadable_input_becomes_fallback(text: str) -> None:
    guard = InputGuard(InputGuard.get_default_config())
    [message] = guard.process([_message(text)])
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == "nlu_fallback"
    assert [entry["name"] for entry in ranking].count("nlu_fallback") == 1
    # Marked, so the fallback action asks plainly instead of offering "did you mean" buttons.
    assert message.get("input_unreadable") is True
    assert "input_unreadable" in message.output_properties


@pytest.mark.parametrize("text", ["hi", "I'd rate it 7", "ok 🙂", "ça va", "こんにちは"])
def test_readable_input_keeps_its_intent(text: str) -> None:
    guard = InputGuard(InputGuard.get_default_config())
    [message] = guard.process([_message(text)])
    assert message.get(INTENT)["name"] == "greet"
    assert message.get("input_unreadable") is None


def test_button_payloads_are_left_to_the_regex_handler() -> None:
    guard = InputGuard({"max_chars": 10})
    [message] = guard.process([_message("/start_values_exercise", intent="start_values_exercise")])
    assert message.get(INTENT)["name"] == "start_values_exercise"


def test_max_chars_is_configurable() -> None:
    guard = InputGuard({"max_chars": 5})
    [short, long] = guard.process([_message("hello"), _message("hello!")])
    assert short.get(INTENT)["name"] == "greet"
    assert long.get(INTENT)["name"] == "nlu_fallback"


@pytest.mark.parametrize("bad", [0, -1, "4000", None, True, 2.5])
def test_bad_config_is_refused_with_a_clear_error(bad: object) -> None:
    with pytest.raises(InputGuardConfigError, match="max_chars"):
        InputGuard({"max_chars": bad})


def test_is_unreadable_counts_digits_as_readable() -> None:
    assert not is_unreadable("7", 10)
    assert is_unreadable(None, 10)
