"""What the journal accepts: text limits, cleaning, ratings, and the input records.

One policy on both databases: NUL characters and unpaired surrogates are removed (PostgreSQL
refuses the first, no UTF-8 encoder takes the second); text over its limit is refused with a
``JournalInputError`` naming the field and the limit, never cut silently. Emoji and
right-to-left text are ordinary text and are kept exactly.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.journal.errors import JournalInputError

# Characters, after cleaning. Actions may check these before asking the journal to store text.
NAME_LIMIT = 80  # value words, life areas, practice names, scenario ids, labels
TITLE_LIMIT = 200
SCRIPT_PART_LIMIT = 2_000
ACTION_TEXT_LIMIT = 1_000
REPLY_LIMIT = 5_000
NOTE_LIMIT = 10_000
JSON_LIMIT = 20_000  # serialised size of feature and score mappings
REGION_LIMIT = 32
CHANNEL_LIMIT = 32  # "rest", "socketio", "telegram"
PLAN_ITEM_LIMIT = 200  # one item of a safety plan's step ("a walk", "Mia 07700 900123")
PLAN_ITEMS_MAX = 6  # items per step
REPORT_NOTE_LIMIT = 500  # the note a user may add to a reported reply
REPLY_ID_LIMIT = 200  # which reply was reported (names and a time, never its words)
RATING_MIN, RATING_MAX = 0, 10

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: Any, field: str, limit: int, *, required: bool = True) -> str | None:
    """The text as stored: unstorable characters removed, ends trimmed, length checked."""
    if value is None:
        if required:
            raise JournalInputError(field, "is required")
        return None
    if not isinstance(value, str):
        raise JournalInputError(field, f"must be text, not {type(value).__name__}")
    text = _UNSTORABLE.sub("", value).strip()
    if not text:
        if required:
            raise JournalInputError(field, "is empty")
        return None
    if len(text) > limit:
        raise JournalInputError(
            field, f"is {len(text)} characters long; the journal keeps at most {limit}"
        )
    return text


def check_rating(value: Any, field: str, *, required: bool = True) -> int | None:
    """A 0-10 rating as an int (bools are not ratings, even though Python says they are ints)."""
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise JournalInputError(field, f"must be a whole number from {RATING_MIN} to {RATING_MAX}")
    if not RATING_MIN <= value <= RATING_MAX:
        raise JournalInputError(field, f"must be from {RATING_MIN} to {RATING_MAX}, not {value}")
    return value


def clean_json(value: Any, field: str) -> Any:
    """A JSON-safe copy of ``value``: strings cleaned, finite numbers only, size limited."""
    cleaned = _clean_json_value(value, field)
    try:
        size = len(json.dumps(cleaned, allow_nan=False))
    except ValueError:
        raise JournalInputError(field, "contains a number JSON cannot hold") from None
    if size > JSON_LIMIT:
        raise JournalInputError(field, f"is {size} characters as JSON; at most {JSON_LIMIT}")
    return cleaned


def _clean_json_value(value: Any, field: str) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise JournalInputError(field, "contains a number that is not finite")
        return value
    if isinstance(value, str):
        return _UNSTORABLE.sub("", value)
    if isinstance(value, dict):
        return {
            _clean_json_key(key, field): _clean_json_value(item, field)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean_json_value(item, field) for item in value]
    raise JournalInputError(field, f"holds a {type(value).__name__}, which is not a JSON value")


def _clean_json_key(key: Any, field: str) -> str:
    if not isinstance(key, str):
        raise JournalInputError(field, "has a key that is not text")
    return _UNSTORABLE.sub("", key)


def clean_scores(scores: Any, field: str = "scores") -> dict[str, float]:
    """Per-dimension scores: a non-empty mapping of short names to finite numbers."""
    if not isinstance(scores, dict) or not scores:
        raise JournalInputError(field, "must be a non-empty mapping of dimension to score")
    cleaned: dict[str, float] = {}
    for name, score in scores.items():
        key = clean_text(name, f"{field} dimension", NAME_LIMIT)
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise JournalInputError(field, "every score must be a number")
        if not math.isfinite(score):
            raise JournalInputError(field, "every score must be a finite number")
        cleaned[key] = score
    return clean_json(cleaned, field)


@dataclass(frozen=True)
class ValueRatingIn:
    """One value as rated in one session of the values exercise."""

    value: str
    importance: int
    consistency: int
    own_word: bool = False


class RoleplayReplyIn(NamedTuple):
    """One reply in a role-play and how the assessor labelled it; a plain tuple works too."""

    text: str
    label: str
    features: dict[str, Any] | None = None
