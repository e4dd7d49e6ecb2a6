"""The dependency reflection's scoring and the voice check's answer reading and reflection."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content import ContentError
from bot.exercises.reflection import (
    REFLECTION_FILE,
    answer_reader,
    band,
    change_lines,
    leans,
    load_reflection_content,
    offers,
    reflection_content,
    result_lines,
)
from bot.exercises.voice_check import (
    effect_reader,
    quote,
    reflection_text,
    source_reader,
    voice_check_content,
)

# --- the reflection ------------------------------------------------------------------------


def _answers_leaning(toward: str) -> list[int]:
    """Answers that lean every dimension fully one way, whatever each statement's direction."""
    content = reflection_content()
    top = content.max_score
    return [
        (top if s.direction == toward else 0) if toward != "middle" else 1
        for s in content.statements
    ]


def test_ten_statements_two_per_dimension_in_both_directions() -> None:
    content = reflection_content()
    assert len(content.statements) == 10
    for dimension in content.dimensions:
        mine = [s for s in content.statements if s.dimension == dimension.key]
        assert len(mine) == 2
        assert {s.direction for s in mine} == {"healthy", "codependent"}


def test_often_on_healthy_statements_leans_healthy() -> None:
    content = reflection_content()
    scores = leans(content, _answers_leaning("healthy"))
    assert set(scores.values()) == {0.0}
    assert {band(content, s) for s in scores.values()} == {"healthy"}
    assert offers(content, scores) == []


def test_often_on_codependent_statements_leans_codependent_and_offers_exercises() -> None:
    content = reflection_content()
    scores = leans(content, _answers_leaning("codependent"))
    assert set(scores.values()) == {1.0}
    offered = offers(content, scores)
    # Five dimensions, four distinct exercises, at most three offered, in content order.
    assert offered == [
        ("Find my values", "/start_values_exercise"),
        ("Write a boundary script", "/start_boundary_script"),
        ("Wise-mind pause", "/start_wise_mind"),
    ]


def test_sometimes_everywhere_is_in_between() -> None:
    content = reflection_content()
    scores = leans(content, _answers_leaning("middle"))
    assert set(scores.values()) == {0.5}
    lines = result_lines(content, scores)
    assert len(lines) == 5
    assert lines[1] == content.dimension("boundaries").lean["mixed"]


def test_the_furthest_leaning_dimension_is_offered_first() -> None:
    content = reflection_content()
    scores = {
        "identity": 0.5,
        "boundaries": 1.0,
        "emotional_responsibility": 0.0,
        "reciprocity": 0.75,
        "motivation": 0.25,
    }
    assert offers(content, scores) == [
        ("Write a boundary script", "/start_boundary_script"),
        ("Practise saying no", "/start_roleplay"),
        ("Find my values", "/start_values_exercise"),
    ]


def test_change_since_last_time_names_only_dimensions_that_moved() -> None:
    content = reflection_content()
    before = {"boundaries": 1.0, "identity": 0.5, "reciprocity": 0.0}
    now = {"boundaries": 0.5, "identity": 0.5, "reciprocity": 0.0, "motivation": 1.0}
    assert change_lines(content, before, now) == [
        "Boundaries: last time it leaned towards the codependent side, now it is somewhere in "
        "between."
    ]


def test_a_wrong_number_of_answers_is_refused() -> None:
    with pytest.raises(ValueError):
        leans(reflection_content(), [1, 2])


@pytest.mark.parametrize(
    ("typed", "score"),
    [
        ("rarely", 0),
        ("never", 0),
        ("not often", 0),
        ("hardly ever", 0),
        ("Sometimes", 1),
        ("now and then", 1),
        ("it depends", 1),
        ("often", 2),
        ("most of the time", 2),
        ("all the time", 2),
        ("always!", 2),
    ],
)
def test_typed_scale_answers(typed: str, score: int) -> None:
    assert answer_reader().read(typed) == score


@pytest.mark.parametrize("typed", ["7", "banana", "sometimes but often", ""])
def test_unclear_scale_answers_are_not_guessed(typed: str) -> None:
    assert answer_reader().read(typed) is None


def test_a_statement_with_an_unknown_direction_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(REFLECTION_FILE.read_text(encoding="utf-8"))
    raw["statements"][4]["direction"] = "sideways"
    path = tmp_path / "reflection.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_reflection_content(path)
    assert error.value.key == "statements[4].direction"


# --- the voice check -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "source"),
    [
        ("creator", "creator"),
        ("a streamer I watch every night", "creator"),
        ("my favourite youtuber", "creator"),
        ("a podcast", "creator"),
        ("my mum suggested it", "close"),
        ("my best friend", "close"),
        ("I saw an advert on the bus", "ad"),
        ("it was sponsored", "ad"),
        ("it was my own idea", "myself"),
        ("me", "myself"),
        ("a streamer told me", "creator"),
        ("my friend sent me a youtube video", "creator"),
        ("not sure", "unsure"),
        ("I can't remember", "unsure"),
    ],
)
def test_typed_sources(typed: str, source: str) -> None:
    assert source_reader().read(typed) == source


@pytest.mark.parametrize(
    "typed", ["banana", "my friend's podcast", "honestly it's mostly his voice, not mine"]
)
def test_no_source_or_an_even_split_is_asked_again(typed: str) -> None:
    assert source_reader().read(typed) is None


@pytest.mark.parametrize(
    ("typed", "effect"),
    [
        ("crowds", "crowds"),
        ("it goes against it", "crowds"),
        ("it helps", "serves"),
        ("a bit of both", "both"),
        ("no idea", "unsure"),
    ],
)
def test_typed_effects(typed: str, effect: str) -> None:
    assert effect_reader().read(typed) == effect


def test_the_reflection_is_built_from_the_answers_without_judgement() -> None:
    content = voice_check_content()
    text = reflection_text(
        content,
        source="creator",
        without="I probably wouldn't want it at all",
        value="saving money",
        effect="crowds",
    )
    assert content.texts.text("reflection_source.creator") in text
    assert '"I probably wouldn\'t want it at all"' in text
    assert "crowd out saving money" in text
    lowered = text.lower()
    for word in ("should", "must", "unfollow", "quit", "addict", "wrong with you"):
        assert word not in lowered


def test_long_answers_are_shortened_when_quoted() -> None:
    assert quote("  buy   the  thing. ") == "buy the thing"
    long = quote("word " * 40)
    assert len(long) == 80 and long.endswith("…")
