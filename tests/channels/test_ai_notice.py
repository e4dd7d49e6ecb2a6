"""The "automated program, not a person" notice (bot.channels.ai_notice, in the fail-safe).

The rules are tested on their own with times chosen here; the turns go through the real
fail-safe and a real (temporary SQLite) journal, with the module's clock replaced, so 3 hours or
7 days pass without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import ai_notice, failsafe
from bot.channels.open_questions import OpenQuestions
from bot.content import ContentError
from bot.journal import db, repository, session_scope
from bot.journal.models import AiNotice
from bot.safety import resources
from tests.conftest import user_who_agreed
from tests.e2e.crisis_check import shows_crisis_resources

START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SENDER = "rest:notice-ana"
OTHER = "rest:notice-ben"
KNOWN = frozenset({"greet"})
HOURS_3 = timedelta(hours=3)
MINUTE = timedelta(minutes=1)


# --- the rules -------------------------------------------------------------------------------


def _after(*gaps: timedelta) -> ai_notice.NoticeTimes | None:
    """The times kept after messages at START and then after each gap, as the turns keep them."""
    times = None
    at = START
    for gap in (timedelta(0), *gaps):
        at += gap
        times = ai_notice.after_turn(times, at, shown=ai_notice.notice_due(times, at))
    return times


def _last(times: ai_notice.NoticeTimes | None) -> datetime:
    assert times is not None
    return times.last_seen_at


def test_the_first_message_gets_the_notice() -> None:
    assert ai_notice.notice_due(None, START)


def test_a_second_message_soon_after_gets_none() -> None:
    assert not ai_notice.notice_due(_after(), START + MINUTE)


def test_two_hours_59_minutes_into_a_conversation_no_notice_at_3_hours_one() -> None:
    times = _after()
    assert not ai_notice.notice_due(times, START + HOURS_3 - MINUTE)
    assert ai_notice.notice_due(times, START + HOURS_3)


def test_every_3_hours_of_continued_use_counted_from_the_last_notice() -> None:
    # Messages every 20 minutes: notices at 0, 3 h and 6 h, none in between.
    times = None
    shown_at = []
    for step in range(20):
        at = START + step * timedelta(minutes=20)
        due = ai_notice.notice_due(times, at)
        if due:
            shown_at.append(at - START)
        times = ai_notice.after_turn(times, at, shown=due)
    assert shown_at == [timedelta(0), HOURS_3, 2 * HOURS_3]


def test_back_after_6_days_no_notice_after_7_days_one() -> None:
    times = _after(MINUTE)
    assert not ai_notice.notice_due(times, _last(times) + timedelta(days=6))
    assert not ai_notice.notice_due(times, _last(times) + timedelta(days=7) - MINUTE)
    assert ai_notice.notice_due(times, _last(times) + timedelta(days=7))


def test_a_new_conversation_after_a_short_absence_has_its_own_3_hours() -> None:
    back = timedelta(days=2)
    times = _after(back)  # no notice on coming back after 2 days
    assert times is not None and times.last_notice_at == START
    assert times.conversation_since == START + back
    assert not ai_notice.notice_due(times, START + back + HOURS_3 - MINUTE)
    assert ai_notice.notice_due(times, START + back + HOURS_3)


def test_a_conversation_ends_after_the_domains_session_expiry() -> None:
    shared = yaml.safe_load(Path("domain/_shared.yml").read_text(encoding="utf-8"))
    minutes = shared["session_config"]["session_expiration_time"]
    assert timedelta(minutes=minutes) == ai_notice.CONVERSATION_ENDS_AFTER


# --- the text --------------------------------------------------------------------------------


def test_the_notice_is_one_short_line_that_says_it_is_a_program() -> None:
    text = ai_notice.notice_text()
    assert "automated program, not a person" in text
    assert "\n" not in text and len(text) <= ai_notice.MAX_NOTICE_CHARS


def test_a_broken_notice_file_names_the_file_and_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "texts.yml"
    broken.write_text("other: text\n", encoding="utf-8")
    monkeypatch.setattr(ai_notice, "TEXTS_FILE", broken)
    ai_notice.notice_text.cache_clear()
    try:
        with pytest.raises(ContentError, match=f"{broken}, key 'ai_notice'"):
            ai_notice.notice_text()
    finally:
        ai_notice.notice_text.cache_clear()


# --- turns through the fail-safe, on a real journal ------------------------------------------


class Clock:
    """The module's clock, moved by the test."""

    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, journal_db: str) -> Clock:
    monkeypatch.setattr(failsafe, "_open_questions_store", OpenQuestions())
    now = Clock()
    monkeypatch.setattr(ai_notice, "now", now)
    return now


async def _answer(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": "Hello there."})


async def _action_server_down(message: UserMessage) -> None:
    raise ConnectionError("the action server is down")


async def _turn(text: str, sender: str = SENDER, dialogue=_answer) -> list[str]:
    collector = CollectingOutputChannel()
    message = UserMessage(text, collector, sender, input_channel="rest")
    await failsafe.handle_message(dialogue, message, channel="rest", known_intents=KNOWN)
    return [m.get("text", "") for m in collector.messages]


NOTICE = ai_notice.notice_text()


async def test_the_notice_comes_first_on_the_first_message_and_not_on_the_second(
    clock: Clock,
) -> None:
    assert await _turn("hi") == [NOTICE, "Hello there."]
    clock.at += MINUTE
    assert await _turn("what can you do?") == ["Hello there."]
    # Someone else's first message is their own.
    assert await _turn("hi", sender=OTHER) == [NOTICE, "Hello there."]


async def test_the_clock_jumps_3_hours_and_7_days(clock: Clock) -> None:
    await _turn("hi")
    clock.at += HOURS_3 - MINUTE
    assert await _turn("still here") == ["Hello there."]
    clock.at += MINUTE
    assert await _turn("still here") == [NOTICE, "Hello there."]
    clock.at += timedelta(days=6)
    assert await _turn("back again") == ["Hello there."]
    clock.at += timedelta(days=7)
    assert await _turn("back again") == [NOTICE, "Hello there."]


async def test_the_notice_goes_out_when_the_dialogue_fails(clock: Clock) -> None:
    texts = await _turn("hi", dialogue=_action_server_down)
    assert texts == [NOTICE, failsafe.APOLOGY_TEXT]


async def test_a_crisis_turn_keeps_its_answer_and_the_notice_comes_next(clock: Clock) -> None:
    texts = await _turn("I want to kill myself", dialogue=_action_server_down)
    assert NOTICE not in texts
    assert shows_crisis_resources(texts)
    assert texts[0] == resources.crisis_messages(None, ("suicide",))[0]["text"]
    with session_scope() as session:  # the crisis turn is not recorded at all
        assert repository.ai_notice_of(session, "rest", SENDER) is None
    clock.at += MINUTE
    assert await _turn("ok") == [NOTICE, "Hello there."]


async def test_a_check_in_turn_shows_no_notice_either(clock: Clock) -> None:
    texts = await _turn("everyone would be better off without me", dialogue=_action_server_down)
    assert NOTICE not in texts
    assert any(resources.is_check_in_text(t) for t in texts)


async def test_the_times_survive_a_restart_of_the_process(clock: Clock, journal_db: str) -> None:
    await _turn("hi")
    db.dispose_engines(journal_db)  # nothing held in this process's memory counts
    clock.at += MINUTE
    assert await _turn("hi again") == ["Hello there."]


@pytest.fixture
def journal_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[None]:
    """A database without the journal's tables: every read fails."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    yield
    db.dispose_engines(url)


async def test_an_unreachable_database_shows_the_notice_every_time(journal_down: None) -> None:
    assert await _turn("hi") == [NOTICE, "Hello there."]
    assert await _turn("hi again") == [NOTICE, "Hello there."]


async def test_a_hung_database_shows_the_notice_by_the_deadline(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    def hung(sender_id: str, at: datetime) -> bool:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result()
        return False

    monkeypatch.setattr(ai_notice, "take_turn", hung)
    monkeypatch.setattr(ai_notice, "READ_DEADLINE_SECONDS", 0.05)
    try:
        assert await _turn("hi") == [NOTICE, "Hello there."]
    finally:
        release.set()


async def test_the_row_holds_times_only_and_goes_with_delete_my_data(
    clock: Clock, journal_db: str
) -> None:
    await _turn("hi")
    await _turn("hi", sender=OTHER)
    engine = sa.create_engine(journal_db, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(AiNotice.__table__)).mappings().all()
    finally:
        engine.dispose()
    assert len(rows) == 2
    for row in rows:  # a pseudonym and three times: no sender id, no text
        assert set(row) == {"pseudonym", "last_seen_at", "conversation_since", "last_notice_at"}
        assert len(row["pseudonym"]) == 64 and "notice-" not in row["pseudonym"]

    with session_scope() as session:
        user_who_agreed(session, "rest", SENDER)
    with session_scope() as session:
        counts = repository.delete_user(session, "rest", SENDER)
    assert counts["ai_notices"] == 1
    with session_scope() as session:
        assert repository.ai_notice_of(session, "rest", SENDER) is None
        assert repository.ai_notice_of(session, "rest", OTHER) is not None
    clock.at += MINUTE
    assert await _turn("hi") == [NOTICE, "Hello there."]  # forgotten, so shown again


async def test_retention_purges_the_times_of_people_long_gone(clock: Clock) -> None:
    await _turn("hi")
    clock.at += timedelta(days=100)
    await _turn("hi", sender=OTHER)
    with session_scope() as session:
        counts = repository.purge(session, timedelta(days=90), now=clock.at)
    assert counts["ai_notices"] == 1
    with session_scope() as session:
        assert repository.ai_notice_of(session, "rest", SENDER) is None
        assert repository.ai_notice_of(session, "rest", OTHER) is not None
