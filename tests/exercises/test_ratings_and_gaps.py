"""0-10 ratings read from typed answers (one reader for every exercise), the gap between them, and the committed-action check."""

from __future__ import annotations

import pytest

from bot.dialogue.ratings import RatingProblem, read_rating
from bot.exercises.values import Rating, check_committed_action, focus_rating, gap_band


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("7", 7),
        ("seven", 7),
        ("Ten", 10),
        ("0", 0),
        ("zero", 0),
        ("none", 0),
        ("I'd say 8", 8),
        ("about six I guess", 6),
        ("9/10", 9),
        ("10/10", 10),
        ("7 out of 10", 7),
        ("seven out of ten", 7),
        ("Seven.", 7),
        ("ten out of ten", 10),
        ("about a 4 I guess", 4),
        ("4 (four)", 4),
    ],
)
def test_readable_ratings(typed: str, value: int) -> None:
    assert read_rating(typed).value == value


@pytest.mark.parametrize(
    ("typed", "problem", "number"),
    [
        ("eleven", RatingProblem.OUT_OF_RANGE, "eleven"),
        ("-3", RatingProblem.OUT_OF_RANGE, "-3"),
        ("minus two", RatingProblem.OUT_OF_RANGE, "minus two"),
        ("15", RatingProblem.OUT_OF_RANGE, "15"),
        ("twenty-one", RatingProblem.OUT_OF_RANGE, "twenty-one"),
        ("a lot", RatingProblem.MISSING, None),
        ("not much", RatingProblem.MISSING, None),
        ("", RatingProblem.MISSING, None),
        ("a hundred", RatingProblem.OUT_OF_RANGE, "hundred"),
        ("6 or 7", RatingProblem.SEVERAL, None),
        ("6-7", RatingProblem.SEVERAL, None),
        ("7.5", RatingProblem.FRACTION, "7.5"),
    ],
)
def test_unreadable_ratings_say_why(typed: str, problem: RatingProblem, number: str | None) -> None:
    reading = read_rating(typed)
    assert reading.value is None
    assert reading.problem is problem
    assert reading.number == number


@pytest.mark.parametrize(
    ("gap", "band"),
    [(8, "large"), (3, "large"), (2, "some"), (1, "some"), (0, "none"), (-4, "none")],
)
def test_gap_bands(gap: int, band: str) -> None:
    assert gap_band(gap) == band


def test_the_focus_is_the_biggest_gap_then_the_most_important() -> None:
    honesty = Rating("honesty", 9, 4)
    kindness = Rating("kindness", 8, 3)
    courage = Rating("courage", 6, 5)
    assert focus_rating([courage, honesty, kindness]) == honesty  # gap 5 each: 9 matters more
    assert focus_rating([courage, Rating("fun", 3, 3)]) == courage
    # A full tie keeps the order the user rated them in.
    assert focus_rating([Rating("a", 5, 5), Rating("b", 5, 5)]).value == "a"
    with pytest.raises(ValueError):
        focus_rating([])


def test_ratings_survive_the_round_trip_through_a_slot() -> None:
    rating = Rating("time outdoors", 7, 2)
    assert Rating.from_slot(rating.as_slot()) == rating
    assert Rating.from_slot({"value": "x", "importance": True, "consistency": 1}) is None
    assert Rating.from_slot("honesty") is None


@pytest.mark.parametrize(
    ("typed", "verdict"),
    [
        ("call my sister on Sunday", "ok"),
        ("walk every morning", "ok"),
        ("exercise", "short"),
        ("be kinder", "short"),
        ("x" * 301, "long"),
    ],
)
def test_committed_action_check(typed: str, verdict: str) -> None:
    assert check_committed_action(typed) == verdict
