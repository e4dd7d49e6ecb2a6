"""Saying a user's words back: second person, filler off, short, nothing added."""

from __future__ import annotations

import pytest

from bot.dialogue.echo import ECHO_MAX_CHARS, echo, second_person

# What was said -> what is said back.
ECHOES = {
    "not pretending I'm fine all the time": "not pretending you're fine all the time",
    "but towards me for once": "towards you for once",
    "and stop living for his approval i guess": "stop living for his approval",
    "I am the one who fixes it": "you are the one who fixes it",
    "when I was little my mum did this": "when you were little your mum did this",
    "time for myself, tbh": "time for yourself",
    "not pretending I\u2019m fine": "not pretending you're fine",
}


@pytest.mark.parametrize(("said", "echoed"), ECHOES.items())
def test_echo_turns_the_first_person_into_the_second(said: str, echoed: str) -> None:
    assert echo(said) == echoed


def test_echo_cuts_long_text_at_a_word() -> None:
    said = "I could tell my sister when I'm having a bad week instead of saying I'm fine " * 3
    out = echo(said)
    assert len(out) <= ECHO_MAX_CHARS
    assert out.endswith("…")
    assert out.startswith("you could tell your sister")


def test_second_person_changes_nothing_but_the_person() -> None:
    assert second_person("Honesty, with them!") == "Honesty, with them!"
    assert second_person("mine") == "yours"
