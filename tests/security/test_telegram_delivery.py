"""Telegram: a cancelled or crashed delivery and its retry are answered exactly once, across
processes and restarts; edited messages are read by the crisis check.

The channel runs over real HTTP against the fake Bot API (Telegram's servers cannot be reached
from tests); the de-duplication ledgers are the real ones, on SQLite, PostgreSQL and Redis. Two
channel objects on one ledger stand for two server processes (or one before and after a
restart): all they share is the database or Redis, as processes do.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels import failsafe
from bot.channels import telegram as tg
from bot.channels import update_ledger as ledgers
from bot.journal import db
from bot.safety import resources
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import SECRET, TOKEN, text_update

# The "program, not a person" notice is not what these tests are about (test_ai_notice.py).
pytestmark = pytest.mark.usefixtures("notice_seen")

HEADERS = {tg.SECRET_HEADER: SECRET}
KNOWN_INTENTS = frozenset({"greet", "ask_help", "stop_exercise", "delete_my_data", "affirm"})
CRISIS_TEXT = "I want to kill myself"
REDIS_URL = "redis://127.0.0.1:6379/0"


class HangingDialogue:
    """Stands in for Rasa's agent stuck behind this user's earlier turn (a hung action)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await self.release.wait()
        for item in resources.crisis_messages(None):  # the dialogue's own copy
            await message.output_channel.send_response(message.sender_id, dict(item))


class Echo:
    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(
            message.sender_id, {"text": f"you said: {message.text}"}
        )


def make_channel(api: FakeBotApi, ledger: ledgers.FallbackLedger) -> tg.SecureTelegramInput:
    settings = tg.TelegramSettings(TOKEN, SECRET, None, api.url)
    return tg.SecureTelegramInput(settings, known_intents=KNOWN_INTENTS, ledger=ledger)


async def post(channel: tg.SecureTelegramInput, update: Any, dialogue: Any) -> tuple[int, dict]:
    return await channel.handle_request(HEADERS, json.dumps(update).encode(), dialogue)


def resource_sends(api: FakeBotApi) -> list[str]:
    first = " ".join(resources.crisis_messages(None)[0]["text"].split()[:6])
    return [
        c.params["text"]
        for c in api.calls("sendMessage")
        if c.status == 200 and first in " ".join(c.params["text"].split())
    ]


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    with FakeBotApi(TOKEN) as api:
        yield api


@pytest.fixture
def sqlite_ledger_url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    db.upgrade(sqlite_url)
    monkeypatch.setenv(db.DATABASE_URL_ENV, sqlite_url)  # the crisis counter's database too
    yield sqlite_url
    db.dispose_engines(sqlite_url)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
async def shared(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Any]:
    """A factory of shared ledgers on one backend: each call is another "process"."""
    claim = 0.3  # short, so a dead claim runs out within the test
    if request.param == "redis":
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        try:
            client.ping()
        except redis.exceptions.ConnectionError as exc:
            pytest.fail(f"Redis at {REDIS_URL} cannot be reached: {exc}")
        prefix = f"secure-base-test:{uuid.uuid4().hex}:"
        yield lambda: ledgers.FallbackLedger(
            ledgers.RedisLedger(REDIS_URL, claim_seconds=claim, key_prefix=prefix),
            ledgers.MemoryLedger(claim_seconds=claim),
        )
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
        return
    url = request.getfixturevalue(f"{request.param}_url")
    db.upgrade(url)
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    yield lambda: ledgers.FallbackLedger(
        ledgers.DatabaseLedger(url, claim_seconds=claim),
        ledgers.MemoryLedger(claim_seconds=claim),
    )
    await failsafe.wait_for_counts()
    db.dispose_engines(url)


async def test_a_cancelled_delivery_and_its_retry_are_answered_once_with_resources(
    fake_api: FakeBotApi, sqlite_ledger_url: str
) -> None:
    channel = make_channel(fake_api, ledgers.ledger_from_env())
    dialogue = HangingDialogue()
    update = text_update(CRISIS_TEXT)
    first = asyncio.ensure_future(post(channel, update, dialogue))
    # The resources go out while the dialogue still hangs...
    await wait_until(lambda: resource_sends(fake_api))
    # ...and Telegram gives up waiting for our 200 (its timeout): the request is cancelled.
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    # The re-send while the first attempt is still at work: "try again later", nothing sent.
    assert await post(channel, update, dialogue) == (503, {"status": "in progress"})
    dialogue.release.set()
    await wait_until(lambda: not failsafe._background)
    assert await post(channel, update, dialogue) == (200, {"status": "duplicate"})
    assert len(resource_sends(fake_api)) == 1
    assert len(dialogue.received) == 1  # the dialogue ran once and kept its state


async def test_an_update_answered_by_one_process_is_a_duplicate_for_another(
    fake_api: FakeBotApi, shared: Any
) -> None:
    update = text_update("hello there")
    first, second = make_channel(fake_api, shared()), make_channel(fake_api, shared())
    dialogue = Echo()
    assert await post(first, update, dialogue) == (200, {"status": "ok"})
    assert await post(second, update, dialogue) == (200, {"status": "duplicate"})
    assert await post(first, update, dialogue) == (200, {"status": "duplicate"})
    assert len(dialogue.received) == 1
    assert [c.params["text"] for c in fake_api.calls("sendMessage")] == ["you said: hello there"]


async def test_a_crashed_first_attempt_is_taken_over_by_the_retry(
    fake_api: FakeBotApi, shared: Any
) -> None:
    update = text_update(CRISIS_TEXT)
    crashed = shared()
    # The first process claimed the update and died before answering (kill -9): no finish.
    assert await crashed.claim(update["update_id"]) == ledgers.NEW
    restarted = make_channel(fake_api, shared())
    dialogue = Echo()
    # Within the claim the retry is told to come back later; it is not marked as answered.
    assert await post(restarted, update, dialogue) == (503, {"status": "in progress"})
    await asyncio.sleep(0.4)  # the dead claim runs out (nothing renews it)
    assert await post(restarted, update, dialogue) == (200, {"status": "ok"})
    assert await post(restarted, update, dialogue) == (200, {"status": "duplicate"})
    assert len(resource_sends(fake_api)) == 1
    assert len(dialogue.received) == 1


async def test_a_long_answer_keeps_its_claim(fake_api: FakeBotApi, shared: Any) -> None:
    update = text_update(CRISIS_TEXT)
    working, other = make_channel(fake_api, shared()), make_channel(fake_api, shared())
    dialogue = HangingDialogue()
    first = asyncio.ensure_future(post(working, update, dialogue))
    await wait_until(lambda: resource_sends(fake_api))
    await asyncio.sleep(0.8)  # well past the claim: only the renewal keeps it
    assert await post(other, update, Echo()) == (503, {"status": "in progress"})
    dialogue.release.set()
    assert await first == (200, {"status": "ok"})
    assert await post(other, update, Echo()) == (200, {"status": "duplicate"})
    assert len(resource_sends(fake_api)) == 1


async def test_a_ledger_that_fails_never_stops_the_answer(
    fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    broken = ledgers.FallbackLedger(ledgers.RedisLedger("redis://127.0.0.1:1/0"))
    channel = make_channel(fake_api, broken)
    update = text_update(CRISIS_TEXT)
    assert await post(channel, update, Echo()) == (200, {"status": "ok"})
    assert len(resource_sends(fake_api)) == 1
    assert "telegram update ledger unavailable" in caplog.text
    # This process still remembers it.
    assert await post(channel, update, Echo()) == (200, {"status": "duplicate"})


def _edited(text: str) -> dict[str, Any]:
    update = text_update(text)
    return {"update_id": update["update_id"], "edited_message": update["message"]}


async def test_an_edited_message_that_signals_a_crisis_gets_the_resources(
    fake_api: FakeBotApi,
) -> None:
    channel = make_channel(fake_api, ledgers.FallbackLedger(None))
    dialogue = Echo()
    assert (await post(channel, _edited(CRISIS_TEXT), dialogue))[0] == 200
    assert len(resource_sends(fake_api)) == 1
    assert dialogue.received == []  # the dialogue has moved on; only the floor reads it


async def test_an_ordinary_edit_is_left_alone(fake_api: FakeBotApi) -> None:
    channel = make_channel(fake_api, ledgers.FallbackLedger(None))
    dialogue = Echo()
    assert (await post(channel, _edited("see you tomorrow"), dialogue))[0] == 200
    assert dialogue.received == []
    assert fake_api.calls("sendMessage") == []


def test_edited_messages_are_asked_for() -> None:
    assert "edited_message" in tg.ALLOWED_UPDATES
