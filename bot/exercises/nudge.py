"""Lean on people, not on the bot (issue 19): when to say so, without Rasa.

A bot about codependency and parasocial attachment must not become what a user leans on instead
of people (the APA's 2025 health advisory on chatbots and emotional reliance). So after a long
sitting, or after use on most days of a week, the bot says so once, warmly, and asks who in the
user's life could share a piece of this; it offers the boundary script and the role-play to
practise that conversation, and a button to turn these reminders off. Never a lock-out.

When it is due (:func:`nudge_due`), from the times the user wrote (Rasa's conversation log) and
the reminder's own record (the journal's ``nudges``):

- a long sitting: the messages since the last pause of ``SITTING_BREAK`` (30 minutes) or more
  span ``LONG_SITTING`` (45 minutes) or number ``LONG_SITTING_MESSAGES`` (40);
- most days of a week: messages on ``MOST_DAYS`` (5) of the last ``WEEK`` (7) days, counted as
  24-hour periods back from now, so no time zone is needed;
- at most once every ``NUDGE_EVERY`` (7 days), whatever the reason; never once turned off.

Where it is said is the dialogue's business (``actions/nudge.py``): only when an exercise has
just ended or the user is at the menu, never in the middle of an exercise, never on a crisis
turn. Every time comes from ``now()``, which tests replace. The words are in
``data/nudge/texts.yml``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.content import DATA_DIR
from bot.dialogue.texts import TextBook, plain

TEXTS_FILE = DATA_DIR / "nudge" / "texts.yml"

SITTING_BREAK = timedelta(minutes=30)
LONG_SITTING = timedelta(minutes=45)
LONG_SITTING_MESSAGES = 40
WEEK = 7
MOST_DAYS = 5
NUDGE_EVERY = timedelta(days=7)
# How far back the times are read: the week, which also holds any sitting that can matter.
LOOK_BACK = timedelta(days=WEEK)

LONG_SITTING_REASON = "long_sitting"
MOST_DAYS_REASON = "most_days"

TEXT_SPEC = {
    **plain(f"intro.{LONG_SITTING_REASON}", f"intro.{MOST_DAYS_REASON}", "ask_people"),
    **plain("buttons.script", "buttons.practise", "buttons.stop"),
    **plain("stopped", "allowed", "already_stopped", "already_allowed"),
}


def now() -> datetime:
    """The clock of every reminder rule: aware UTC (tests replace this function)."""
    return datetime.now(timezone.utc)


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The reminder's words, checked (placeholders, button lengths) when first read."""
    return TextBook.load(TEXTS_FILE, TEXT_SPEC)


@dataclass(frozen=True)
class NudgeRecord:
    """The reminder's own record of one user: turned off or not, and when last shown."""

    reminders_off: bool = False
    last_nudge_at: datetime | None = None


def sitting(times: Iterable[datetime], at: datetime) -> list[datetime]:
    """The messages of the sitting that ends at ``at`` (``at`` included): back from ``at``
    until a pause of ``SITTING_BREAK`` or more."""
    ordered = sorted(t for t in times if t <= at)
    kept = [at]
    for moment in reversed(ordered):
        if kept[-1] - moment >= SITTING_BREAK:
            break
        kept.append(moment)
    kept.reverse()
    return kept


def days_of_use(times: Iterable[datetime], at: datetime) -> int:
    """On how many of the last ``WEEK`` days (24-hour periods back from ``at``) the user wrote;
    ``at`` counts as a message of today."""
    days = {0}
    for moment in times:
        if moment <= at:
            day = (at - moment) // timedelta(days=1)
            if day < WEEK:
                days.add(day)
    return len(days)


def nudge_due(times: Iterable[datetime], at: datetime, record: NudgeRecord | None) -> str | None:
    """Why a reminder is due for a user writing at ``at`` (``LONG_SITTING_REASON`` or
    ``MOST_DAYS_REASON``), or None. ``times`` are their earlier messages (any order)."""
    record = record or NudgeRecord()
    if record.reminders_off:
        return None
    if record.last_nudge_at is not None and at - record.last_nudge_at < NUDGE_EVERY:
        return None
    times = list(times)
    current = sitting(times, at)
    if len(current) >= LONG_SITTING_MESSAGES or at - current[0] >= LONG_SITTING:
        return LONG_SITTING_REASON
    if days_of_use(times, at) >= MOST_DAYS:
        return MOST_DAYS_REASON
    return None
