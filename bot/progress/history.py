"""The series behind each progress picture, from the journal's rows (pure, tested directly).

A picture needs at least two points in time: one rating, one pause or one week is not a change
yet, and gets a kind sentence instead (``enough``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# At most this much is drawn, the newest kept: a phone-sized picture stays readable.
MAX_VALUES = 5
MAX_SITTINGS = 10
MAX_PAUSES = 12
MAX_WEEKS = 10
ASSERTIVE = "assertive"


@dataclass(frozen=True)
class ValueSeries:
    """How much one value was lived (0-10) at each sitting that rated it, oldest first."""

    value: str
    points: tuple[tuple[datetime, int], ...]


@dataclass(frozen=True)
class Pause:
    """One wise-mind pause: distress before and after (0-10)."""

    when: datetime
    before: int
    after: int


@dataclass(frozen=True)
class RoleplayWeek:
    """The role-play replies of one week (starting on Monday): how many were assertive."""

    week_start: date
    assertive: int
    replies: int

    @property
    def share(self) -> float:
        return self.assertive / self.replies if self.replies else 0.0


def value_series(ratings: Iterable[tuple[str, datetime, int]]) -> list[ValueSeries]:
    """One series per value from ``(value, rated_at, lived)`` rows; values are told apart
    without regard to case. The values rated most recently come first, at most ``MAX_VALUES``,
    each with its newest ``MAX_SITTINGS`` points."""
    by_value: dict[str, list[tuple[datetime, int, str]]] = {}
    for value, when, lived in ratings:
        by_value.setdefault(value.casefold(), []).append((when, lived, value))
    series = []
    for rows in by_value.values():
        rows.sort(key=lambda row: row[0])
        kept = rows[-MAX_SITTINGS:]
        series.append(ValueSeries(kept[-1][2], tuple((when, lived) for when, lived, _ in kept)))
    series.sort(key=lambda s: (-s.points[-1][0].timestamp(), s.value.casefold()))
    return series[:MAX_VALUES]


def pauses(entries: Iterable[tuple[datetime, int, int | None]]) -> list[Pause]:
    """The pauses with both ratings from ``(when, before, after)`` rows, oldest first, at most
    ``MAX_PAUSES`` (the newest)."""
    complete = [Pause(when, before, after) for when, before, after in entries if after is not None]
    complete.sort(key=lambda pause: pause.when)
    return complete[-MAX_PAUSES:]


def week_of(moment: datetime) -> date:
    """The Monday of the (UTC) week ``moment`` falls in."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def roleplay_weeks(replies: Iterable[tuple[datetime, str]]) -> list[RoleplayWeek]:
    """Replies per week from ``(session time, label)`` rows, oldest first, at most
    ``MAX_WEEKS`` (the newest); weeks without practice are left out."""
    counts: dict[date, list[int]] = {}
    for when, label in replies:
        week = counts.setdefault(week_of(when), [0, 0])
        week[0] += label == ASSERTIVE
        week[1] += 1
    weeks = [RoleplayWeek(start, assertive, total) for start, (assertive, total) in counts.items()]
    weeks.sort(key=lambda week: week.week_start)
    return weeks[-MAX_WEEKS:]


def values_enough(series: list[ValueSeries]) -> bool:
    """A picture of values shows change: some value was rated at two sittings or more."""
    return any(len(s.points) >= 2 for s in series)


def pauses_enough(items: list[Pause]) -> bool:
    return len(items) >= 2


def weeks_enough(weeks: list[RoleplayWeek]) -> bool:
    return len(weeks) >= 2
