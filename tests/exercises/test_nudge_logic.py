"""When "lean on people, not on the bot" is due: the rules of bot/exercises/nudge.py on a clock
the test sets (a long sitting, most days of a week, once a week, never once turned off)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.exercises import nudge
from bot.exercises.nudge import LONG_SITTING_REASON, MOST_DAYS_REASON, NudgeRecord, nudge_due

NOW = datetime(2026, 12, 7, 20, 0, tzinfo=timezone.utc)
MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


def every(step: timedelta, count: int, end: datetime = NOW) -> list[datetime]:
    """``count`` messages ``step`` apart, the last one at ``end``."""
    return [end - step * n for n in range(count - 1, -1, -1)]


def test_a_short_first_visit_is_not_a_reason() -> None:
    assert nudge_due([], NOW, None) is None
    assert nudge_due(every(2 * MIN, 10), NOW, None) is None


def test_forty_five_minutes_of_one_sitting_is() -> None:
    # A message every 5 minutes since 45 minutes before NOW: 44 minutes in, not yet; 45, yes.
    sitting = every(5 * MIN, 9, end=NOW - 5 * MIN)
    assert sitting[0] == NOW - 45 * MIN
    assert nudge_due(sitting, NOW - MIN, None) is None
    assert nudge_due(sitting, NOW, None) == LONG_SITTING_REASON


def test_forty_messages_of_one_sitting_are_too() -> None:
    quick = every(10 * timedelta(seconds=1), 38, end=NOW - timedelta(seconds=10))
    assert nudge_due(quick, NOW, None) is None  # 39 with this one
    assert nudge_due([*quick, NOW - timedelta(seconds=5)], NOW, None) == LONG_SITTING_REASON


def test_a_pause_of_half_an_hour_starts_a_new_sitting() -> None:
    earlier = every(5 * MIN, 12, end=NOW - 40 * MIN)  # an hour's sitting, ended 40 min ago
    assert nudge_due(earlier, NOW, None) is None
    assert nudge.sitting(earlier, NOW) == [NOW]
    # 29 minutes of quiet is not a pause: the hour goes on.
    assert nudge_due(every(5 * MIN, 12, end=NOW - 29 * MIN), NOW, None) == LONG_SITTING_REASON


def test_five_of_the_last_seven_days_is_a_reason_and_four_is_not() -> None:
    four_days = [NOW - DAY * n for n in (1, 2, 3)]  # and today
    assert nudge.days_of_use(four_days, NOW) == 4
    assert nudge_due(four_days, NOW, None) is None
    five_days = [*four_days, NOW - 6 * DAY + MIN]
    assert nudge.days_of_use(five_days, NOW) == 5
    assert nudge_due(five_days, NOW, None) == MOST_DAYS_REASON
    # Many messages on one day count once; a day more than a week back does not count.
    assert nudge_due([*four_days, *every(MIN, 20, end=NOW - DAY)], NOW, None) is None
    assert nudge_due([*four_days, NOW - 7 * DAY], NOW, None) is None


def test_it_is_said_once_a_week_at_most() -> None:
    five_days = [NOW - DAY * n for n in (1, 2, 3, 4)]
    shown = NudgeRecord(last_nudge_at=NOW - 6 * DAY - 23 * timedelta(hours=1))
    assert nudge_due(five_days, NOW, shown) is None
    long_sitting = every(MIN, 50)
    assert nudge_due(long_sitting, NOW, shown) is None
    a_week_ago = NudgeRecord(last_nudge_at=NOW - 7 * DAY)
    assert nudge_due(five_days, NOW, a_week_ago) == MOST_DAYS_REASON


def test_never_once_turned_off() -> None:
    off = NudgeRecord(reminders_off=True)
    assert nudge_due(every(MIN, 60), NOW, off) is None
    assert nudge_due([NOW - DAY * n for n in range(1, 7)], NOW, off) is None
    back_on = NudgeRecord(reminders_off=False)
    assert nudge_due(every(MIN, 60), NOW, back_on) == LONG_SITTING_REASON


def test_later_messages_than_now_are_not_counted() -> None:
    assert nudge_due(every(MIN, 60, end=NOW + 2 * DAY), NOW, None) is None


def test_the_words_load_and_each_reason_has_its_opening() -> None:
    texts = nudge.texts()
    for reason in (LONG_SITTING_REASON, MOST_DAYS_REASON):
        assert texts.text(f"intro.{reason}")
    assert "you don't need to tell me who" in texts.text("ask_people").lower()
