"""Lean on people, not on the bot, end to end (issue 19): real Rasa and action servers, the
real REST channel, a real SQLite database.

The servers' clock cannot be moved from here; the stored times can. Moving every stored time of
a user back by a duration is, for the reminder's rules, the same as that much time passing: the
conversation log's ``timestamp`` column (what the reminder reads; Rasa itself reads the times
inside each event) and the reminder's last time in the journal.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.exercises import nudge
from bot.journal import repository, session_scope
from tests.e2e.chat import send
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

TEXTS = nudge.texts()
MOST_DAYS = TEXTS.text("intro.most_days")
ASK = TEXTS.text("ask_people")
DAY = timedelta(days=1)


@pytest.fixture
def stack(shared_stack: RasaStack, same_secret: None) -> RasaStack:
    return shared_stack


def _say(stack: RasaStack, sender: str, text: str) -> list[dict]:
    return send(stack, sender, text)


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def _days_pass(stack: RasaStack, sender: str, duration: timedelta) -> None:
    """As if ``duration`` had passed since this REST sender's messages and last reminder."""
    sender_id = f"rest:{sender}"
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE events SET timestamp = timestamp - :d WHERE sender_id = :s"),
                {"d": duration.total_seconds(), "s": sender_id},
            )
    finally:
        engine.dispose()
    with session_scope(stack.database_url) as session:
        row = repository.nudge_of(session, "rest", sender_id)
        if row is not None and row.last_nudge_at is not None:
            repository.record_nudge(
                session, "rest", sender_id, last_nudge_at=row.last_nudge_at - duration
            )


def _reminders_off(stack: RasaStack, sender: str) -> bool | None:
    with session_scope(stack.database_url) as session:
        row = repository.nudge_of(session, "rest", f"rest:{sender}")
        return None if row is None else bool(row.reminders_off)


def _new_sender() -> str:
    return f"nudge-{uuid.uuid4().hex[:8]}"


def _four_days_of_use(stack: RasaStack) -> str:
    """A new sender who has said hi once a day for four days: the fifth day's reminder is due."""
    sender = _new_sender()
    for _ in range(4):
        _say(stack, sender, "hi")
        _days_pass(stack, sender, DAY)
    return sender


def test_most_days_of_a_week_get_the_reminder_once_and_off_means_off(stack: RasaStack) -> None:
    sender = _new_sender()
    for _ in range(4):  # four days of use, one a day: no reminder yet
        assert MOST_DAYS not in _texts(_say(stack, sender, "hi"))
        _days_pass(stack, sender, DAY)
    fifth = _say(stack, sender, "hi")
    texts = _texts(fifth)
    assert texts[-2:] == [MOST_DAYS, ASK], "after the greeting and the menu"
    payloads = [b["payload"] for b in fifth[-1]["buttons"]]
    assert payloads == ["/start_boundary_script", "/start_roleplay", "/stop_nudges"]
    assert MOST_DAYS not in _texts(_say(stack, sender, "hi")), "said once"

    assert _texts(_say(stack, sender, "/stop_nudges")) == [TEXTS.text("stopped")]
    assert _reminders_off(stack, sender) is True
    _days_pass(stack, sender, 8 * DAY)
    for _ in range(5):  # another week of daily use: still nothing
        assert MOST_DAYS not in _texts(_say(stack, sender, "hi"))
        _days_pass(stack, sender, DAY)
    assert MOST_DAYS not in _texts(_say(stack, sender, "hi"))

    assert _texts(_say(stack, sender, "/allow_nudges")) == [TEXTS.text("allowed")]
    assert _reminders_off(stack, sender) is False
    assert _texts(_say(stack, sender, "hi"))[-2:] == [MOST_DAYS, ASK]


def test_never_in_the_middle_of_an_exercise(stack: RasaStack) -> None:
    sender = _four_days_of_use(stack)
    started = _texts(_say(stack, sender, "/start_wise_mind"))
    assert started and MOST_DAYS not in started
    assert MOST_DAYS not in _texts(_say(stack, sender, "7"))
    # A pause is not where it is said; the greeting after it is the menu, and it is.
    assert MOST_DAYS not in _texts(_say(stack, sender, "stop"))
    assert _texts(_say(stack, sender, "hi"))[-2:] == [MOST_DAYS, ASK]


def test_a_crisis_turn_gets_its_answer_alone(stack: RasaStack) -> None:
    sender = _four_days_of_use(stack)
    crisis = _texts(_say(stack, sender, "I want to kill myself"))
    assert MOST_DAYS not in crisis and ASK not in crisis
