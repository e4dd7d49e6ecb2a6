"""The notes of questions the floor left open: taken once, per sender, on memory and real Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from bot.channels import open_questions as oq
from bot.safety.open_question import CHECK_IN, SAFETY

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def shared_notes() -> oq.RedisNotes:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis at {REDIS_URL} cannot be reached: {exc}")
    return oq.RedisNotes(REDIS_URL)


def _sender() -> str:
    return f"tg:{uuid.uuid4().int % 10**9}"


async def test_memory_note_is_taken_once_and_only_by_its_sender() -> None:
    notes = oq.OpenQuestions()
    await notes.mark("web:a", CHECK_IN)
    assert await notes.take("web:b") is None
    assert await notes.take("web:a") == CHECK_IN
    assert await notes.take("web:a") is None


async def test_the_newest_note_wins() -> None:
    notes = oq.OpenQuestions()
    await notes.mark("web:a", CHECK_IN)
    await notes.mark("web:a", SAFETY)
    assert await notes.take("web:a") == SAFETY


async def test_an_old_note_expires() -> None:
    notes = oq.OpenQuestions(memory=oq.MemoryNotes(ttl_seconds=-1))
    await notes.mark("web:a", SAFETY)
    assert await notes.take("web:a") is None


async def test_memory_keeps_at_most_its_capacity_dropping_the_oldest() -> None:
    memory = oq.MemoryNotes(capacity=2)
    for sender in ("a", "b", "c"):
        memory.mark(sender, SAFETY)
    assert [memory.take(s) for s in ("a", "b", "c")] == [None, SAFETY, SAFETY]


async def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown open question"):
        await oq.OpenQuestions().mark("web:a", "menu")


@pytest.mark.redis
async def test_redis_notes_are_shared_by_processes_and_hold_no_sender_id(
    shared_notes: oq.RedisNotes,
) -> None:
    sender = _sender()
    one, other = oq.OpenQuestions(shared_notes), oq.OpenQuestions(oq.RedisNotes(REDIS_URL))
    await one.mark(sender, CHECK_IN)
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k.decode() for k in client.keys(oq.KEY_PREFIX + "*")]
    assert keys and not [k for k in keys if sender in k or sender.split(":")[1] in k]
    assert 0 < client.pttl(oq.KEY_PREFIX + oq._digest(sender)) <= oq.TTL_SECONDS * 1000
    assert await other.take(sender) == CHECK_IN  # another process finds it
    assert await one.take(sender) is None  # and it is gone for everyone


async def test_a_redis_outage_keeps_the_note_in_memory() -> None:
    notes = oq.OpenQuestions(oq.RedisNotes("redis://127.0.0.1:1/0"))
    await notes.mark("web:a", SAFETY)
    assert await notes.take("web:a") == SAFETY


def test_the_store_follows_the_setting() -> None:
    assert oq.open_questions_from_env({}).shared is None
    shared = oq.open_questions_from_env({oq.REDIS_URL_ENV: REDIS_URL}).shared
    assert isinstance(shared, oq.RedisNotes) and shared.url == REDIS_URL
