"""The notice that the user is talking to an automated program, not a person (issue 19).

The chatbot laws ask for it (New York GBL art. 47, California SB 243, Utah HB 452, the EU AI
Act art. 50), so it goes out from the fail-safe (``bot.channels.failsafe``) on every channel,
before the dialogue runs and whatever the dialogue or the action server do. It is due:

- on a user's first message ever (or the first after they erased their data);
- when they come back after ``AWAY_FOR`` (7 days) or more without a message;
- after ``NOTICE_EVERY`` (3 hours) of one conversation since the last notice. A conversation
  ends after a pause of ``CONVERSATION_ENDS_AFTER``, the domain's ``session_expiration_time``:
  someone back after two days (less than 7) gets no notice at once, but does 3 hours into the
  new conversation.

A crisis turn (the full resources or the check-in question) shows no notice and is not
recorded: the crisis answer stays exactly as it is, and a notice that was due comes with the
next message instead.

The times live in the journal database (``ai_notices``, by pseudonym: they survive a restart
and are shared by every Rasa process) and go with "delete my data". They are read and written
in a small pool of worker threads with a deadline; when the database is slow or down, the
notice is shown (better twice than never). Every time comes from ``now()``, the one clock, which
tests replace. Nothing here logs user text or sender ids.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot import sender_ids
from bot.content import DATA_DIR, load_yaml, require_mapping, require_text

logger = logging.getLogger(__name__)

TEXTS_FILE = DATA_DIR / "notices" / "texts.yml"
NOTICE_KEY = "ai_notice"
# One short line, not a wall (checked at load).
MAX_NOTICE_CHARS = 200

NOTICE_EVERY = timedelta(hours=3)
AWAY_FOR = timedelta(days=7)
# domain/_shared.yml's session_config.session_expiration_time (720 minutes; a test compares).
CONVERSATION_ENDS_AFTER = timedelta(minutes=720)

# How long a turn waits for the stored times before the notice goes out anyway. A healthy
# database answers in milliseconds.
READ_DEADLINE_SECONDS = 1.5
# Reads wait here, so a hung database holds at most these threads (not Rasa's or the loop's).
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ai-notice")


def now() -> datetime:
    """The clock of every notice rule: aware UTC (tests replace this function)."""
    return datetime.now(timezone.utc)


@functools.lru_cache(maxsize=1)
def notice_text() -> str:
    """The reviewed line (``data/notices/texts.yml``); a ContentError names the file and key."""
    texts = require_mapping(load_yaml(TEXTS_FILE), TEXTS_FILE, "")
    text = require_text(texts.get(NOTICE_KEY), TEXTS_FILE, NOTICE_KEY, max_len=MAX_NOTICE_CHARS)
    return " ".join(text.split())


def is_notice_text(text: Any) -> bool:
    """Whether ``text`` is the notice (for the channels' tests and tools)."""
    return isinstance(text, str) and " ".join(text.split()) == notice_text()


@dataclass(frozen=True)
class NoticeTimes:
    """What the rules need to know of one user: their last message, when the conversation it
    belongs to began, and the last notice they saw (None: never)."""

    last_seen_at: datetime
    conversation_since: datetime
    last_notice_at: datetime | None


def notice_due(times: NoticeTimes | None, at: datetime) -> bool:
    """Whether a (non-crisis) message at ``at`` gets the notice (the rules of the module)."""
    if times is None or times.last_notice_at is None:
        return True
    away = at - times.last_seen_at
    if away >= AWAY_FOR:
        return True
    if away >= CONVERSATION_ENDS_AFTER:
        return False  # a new conversation, after less than 7 days: its own 3 hours start now
    return at - max(times.last_notice_at, times.conversation_since) >= NOTICE_EVERY


def after_turn(times: NoticeTimes | None, at: datetime, *, shown: bool) -> NoticeTimes:
    """The times to keep after a message at ``at`` (with the notice shown or not)."""
    if times is None or at - times.last_seen_at >= CONVERSATION_ENDS_AFTER:
        since = at
    else:
        since = times.conversation_since
    last_notice = at if shown else (times.last_notice_at if times else None)
    return NoticeTimes(last_seen_at=at, conversation_since=since, last_notice_at=last_notice)


def take_turn(sender_id: str, at: datetime) -> bool:
    """Whether this turn shows the notice; the turn is recorded in the same transaction."""
    # Imported here: the channels load the journal only when a message arrives.
    from bot.journal import repository, session_scope

    # As the journal actions name it (actions/journal.py), so "delete my data" finds the row.
    journal_channel = sender_ids.channel_of(sender_id) or "unknown"
    with session_scope() as session:
        row = repository.ai_notice_of(session, journal_channel, sender_id)
        times = (
            NoticeTimes(row.last_seen_at, row.conversation_since, row.last_notice_at)
            if row is not None
            else None
        )
        due = notice_due(times, at)
        kept = after_turn(times, at, shown=due)
        repository.record_ai_notice(session, journal_channel, sender_id, **asdict(kept))
    return due


async def notice_message(sender_id: str) -> dict[str, Any] | None:
    """The notice as a message when this turn should show it, else None (see the module)."""
    at = now()
    future = _pool.submit(take_turn, sender_id, at)
    try:
        due = await asyncio.wait_for(asyncio.wrap_future(future), READ_DEADLINE_SECONDS)
    except asyncio.TimeoutError:
        logger.warning(
            "notice times not read within %.1f s; the notice is shown", READ_DEADLINE_SECONDS
        )
        due = True
    except Exception as exc:  # a database outage must not hide the notice
        logger.warning("notice times unavailable (%s); the notice is shown", type(exc).__name__)
        due = True
    return {"text": notice_text()} if due else None
