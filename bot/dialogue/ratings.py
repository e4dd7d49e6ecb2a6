"""Reading a 0-10 rating from what someone typed: "7", "seven", "7/10", "I'd say 8".

Out-of-range or unreadable answers ("eleven", "-3", "a lot", "6 or 7") are not guessed at: the
caller re-asks with a hint that says what went wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

RATING_MIN, RATING_MAX = 0, 10

_UNITS = {
    "zero": 0, "nought": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
_NUMBER_WORD = "|".join(sorted(_UNITS, key=len, reverse=True))
# "minus three", "-3", "7.5", "twenty-one", "seven": one number each.
_NUMBER = re.compile(
    rf"(?P<sign>-|\bminus\s+)?(?:(?P<digits>\d+(?:[.,]\d+)?)|\b(?P<word>(?:{_NUMBER_WORD})"
    rf"(?:[\s-](?:{_NUMBER_WORD}))?)\b)",
    re.IGNORECASE,
)
# "7/10", "7 out of 10", "seven of ten": the scale is not a second number.
_OUT_OF_TEN = re.compile(r"\s*(?:/|out\s+of|of)\s*(?:10|ten)\b", re.IGNORECASE)


class RatingProblem(Enum):
    """Why an answer could not be read as a rating (each gets its own hint)."""

    MISSING = "missing"
    OUT_OF_RANGE = "out_of_range"
    SEVERAL = "several"
    FRACTION = "fraction"


@dataclass(frozen=True)
class RatingReading:
    """A rating, or the problem with the answer (and the number that caused it)."""

    value: int | None = None
    problem: RatingProblem | None = None
    number: str | None = None


def _word_value(words: str) -> int:
    total = 0
    for part in re.split(r"[\s-]+", words.lower()):
        total += _UNITS[part]
    return total


def read_rating(text: str) -> RatingReading:
    """The whole number from 0 to 10 in ``text``, or why there isn't exactly one."""
    numbers: list[tuple[float, str]] = []
    for match in _NUMBER.finditer(text):
        sign = -1 if match["sign"] else 1
        if match["digits"]:
            raw = match["digits"].replace(",", ".")
            value = float(raw)
        else:
            raw = match["word"]
            value = float(_word_value(raw))
        numbers.append((sign * value, match.group(0).strip()))
        # Skip a following "/10" or "out of ten" so it is not read as a second answer.
        tail = _OUT_OF_TEN.match(text, match.end())
        if tail and len(numbers) == 1:
            break
    if not numbers:
        return RatingReading(problem=RatingProblem.MISSING)
    if len({value for value, _ in numbers}) > 1:  # "4 (four)" is one number said twice
        return RatingReading(problem=RatingProblem.SEVERAL)
    value, raw = numbers[0]
    if not value.is_integer():
        return RatingReading(problem=RatingProblem.FRACTION, number=raw)
    if not RATING_MIN <= value <= RATING_MAX:
        return RatingReading(problem=RatingProblem.OUT_OF_RANGE, number=raw)
    return RatingReading(value=int(value))


# The kit's hint for each problem (every skill's texts.yml has them: bot.dialogue.forms).
_HINT_KEYS = {
    RatingProblem.MISSING: "hints.rating_missing",
    RatingProblem.OUT_OF_RANGE: "hints.rating_out_of_range",
    RatingProblem.SEVERAL: "hints.rating_several",
    RatingProblem.FRACTION: "hints.rating_fraction",
}


def rating_hint_key(reading: RatingReading) -> str:
    """The text key of the hint for an answer that is not a rating."""
    return _HINT_KEYS[reading.problem or RatingProblem.MISSING]
