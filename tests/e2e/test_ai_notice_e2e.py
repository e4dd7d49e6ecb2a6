"""The "automated program, not a person" notice end to end (issue 19): real Rasa and action
servers, the real REST and socket.io channels, a real SQLite database.

The server's clock cannot be moved from here; the stored times can. Moving every stored time of
a user back by a duration is, for the rules, the same as that much time passing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.ai_notice import notice_text
from bot.journal import db, repository, session_scope
from bot.safety import resources
from tests.e2e.chat import REST_CHANNEL, Client, send
from tests.e2e.crisis_check import shows_crisis_resources
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

NOTICE = notice_text()


@pytest.fixture
def stack(shared_stack: RasaStack, same_secret: None) -> RasaStack:
    return shared_stack


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def _say(stack: RasaStack, sender: str, text: str) -> list[str]:
    return _texts(send(stack, sender, text, notice=True))


def _time_passes(stack: RasaStack, sender: str, duration: timedelta) -> None:
    """As if ``duration`` had passed since this REST sender's last message."""
    sender_id = f"rest:{sender}"
    with session_scope(stack.database_url) as session:
        row = repository.ai_notice_of(session, "rest", sender_id)
        assert row is not None, "the sender's turns were recorded"
        repository.record_ai_notice(
            session,
            "rest",
            sender_id,
            last_seen_at=row.last_seen_at - duration,
            conversation_since=row.conversation_since - duration,
            last_notice_at=row.last_notice_at - duration if row.last_notice_at else None,
        )


def _new_sender() -> str:
    return f"notice-{uuid.uuid4().hex[:8]}"


def test_the_first_message_gets_the_notice_first_and_the_second_does_not(
    stack: RasaStack,
) -> None:
    sender = _new_sender()
    first = _say(stack, sender, "hi")
    assert first[0] == NOTICE
    assert first.count(NOTICE) == 1
    assert len(first) > 1, "the dialogue answered after the notice"
    second = _say(stack, sender, "what is codependency?")
    assert NOTICE not in second and second


def test_three_hours_of_a_conversation_and_seven_days_away(stack: RasaStack) -> None:
    sender = _new_sender()
    assert _say(stack, sender, "hi")[0] == NOTICE
    _time_passes(stack, sender, timedelta(hours=2, minutes=59))
    assert NOTICE not in _say(stack, sender, "what is wise mind?")
    _time_passes(stack, sender, timedelta(minutes=1))
    assert _say(stack, sender, "what is a parasocial relationship?")[0] == NOTICE
    _time_passes(stack, sender, timedelta(days=6))
    assert NOTICE not in _say(stack, sender, "hi")
    _time_passes(stack, sender, timedelta(days=7))
    assert _say(stack, sender, "hi")[0] == NOTICE


def test_a_first_message_in_crisis_gets_the_resources_alone_and_the_notice_next(
    stack: RasaStack,
) -> None:
    sender = _new_sender()
    crisis = _say(stack, sender, "I want to kill myself")
    assert crisis[0] == resources.crisis_messages(None)[0]["text"]
    assert shows_crisis_resources(crisis) and NOTICE not in crisis
    after = _say(stack, sender, "/confirm_safe")
    assert after[0] == NOTICE


async def test_the_web_page_gets_the_notice_on_its_first_message(stack: RasaStack) -> None:
    client = Client(notice=True)
    await client.connect(stack.base_url)
    try:
        token = await client.request_session(None)
        first = _texts(await client.turn("hi", token, until=lambda a: len(a) > 1))
        assert first[0] == NOTICE and len(first) > 1
        second = _texts(await client.turn("what is codependency?", token))
        assert NOTICE not in second
    finally:
        await client.close()


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """A stack of this module's own: it is restarted and loses its action server."""
    with RasaStack(REST_CHANNEL, Path(tmp_path_factory.mktemp("notice-stack"))) as running:
        yield running
    db.dispose_engines(running.database_url)


def test_the_times_survive_a_restart_and_need_no_action_server(own_stack: RasaStack) -> None:
    sender = _new_sender()
    assert _say(own_stack, sender, "hi")[0] == NOTICE
    own_stack.restart_rasa()
    assert NOTICE not in _say(own_stack, sender, "hi")
    own_stack.stop_actions()
    newcomer = _new_sender()
    assert _say(own_stack, newcomer, "what is codependency?")[0] == NOTICE
    assert NOTICE not in _say(own_stack, newcomer, "what is codependency?")
