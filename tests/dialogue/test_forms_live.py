"""The kit's re-asks on a real Rasa server and action server (trained model): after a hint the
question is not said again, an accepted answer asks the next question in full, and a button of
something else mid-exercise is not stored."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from bot.exercises import values, wise_mind
from tests.e2e.chat import send
from tests.e2e.servers import RasaStack


def _sender(stack: RasaStack) -> Callable[[str], list[dict]]:
    sender = uuid.uuid4().hex
    return lambda message: send(stack, sender, message)


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text") or "" for m in messages]


def test_a_rating_hint_is_not_followed_by_the_question(shared_stack: RasaStack) -> None:
    say, texts = _sender(shared_stack), wise_mind.texts()
    question = texts.text("ask.wm_distress_before")
    assert question in _texts(say("/start_wise_mind"))
    hinted = _texts(say("eleven"))
    assert hinted == [texts.text("hints.rating_out_of_range", number="eleven")]
    # A good answer: the next question, in full.
    assert texts.text("ask.wm_intro") in _texts(say("7"))


def test_a_hint_carries_the_questions_buttons(shared_stack: RasaStack) -> None:
    say, texts = _sender(shared_stack), values.values_content().texts
    started = say("/start_values_exercise")
    asked = next(m for m in started if m.get("text") == texts.text("ask_area"))
    hinted = say("qwzx")
    assert _texts(hinted) == [texts.text("hint_area")]
    assert hinted[0]["buttons"] == asked["buttons"]


def test_a_button_of_something_else_mid_exercise_is_not_an_answer(shared_stack: RasaStack) -> None:
    say, texts = _sender(shared_stack), wise_mind.texts()
    say("/start_wise_mind")
    assert _texts(say("/start_roleplay")) == [texts.text("hints.finish_this_first")]
    # The question is still open: a rating answers it.
    assert texts.text("ask.wm_intro") in _texts(say("4"))


def test_a_request_mid_exercise_is_heard_and_the_exercise_can_carry_on(
    shared_stack: RasaStack,
) -> None:
    say, texts = _sender(shared_stack), values.values_content().texts
    say("/start_values_exercise")
    [heard] = say("can you export my data")
    assert "get a copy of your data" in heard["text"]
    assert [b["payload"] for b in heard["buttons"]] == ["/stop_exercise", "/resume_exercise"]
    # "Carry on here": the question again, in full, and the answer still goes in.
    assert texts.text("ask_area") in _texts(say("/resume_exercise"))
    assert any("1 of" in text for text in _texts(say("work")))
