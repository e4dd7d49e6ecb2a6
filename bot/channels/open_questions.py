"""Where the fail-safe notes a question it left open, until that user's next message takes it.

See ``bot.safety.open_question`` for why. One note per sender, the newest wins, and taking it
removes it: only the very next message is read as the answer. Backends: Redis (``SET`` with a
TTL, ``GETDEL``) when ``SECURE_BASE_REDIS_URL`` is set, so that any process behind nginx finds
it, else this process's memory. A Redis that fails falls back to memory for that call: a note
kept in one process is better than none. Keys hold a hash of the sender id, never the id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from typing import Any

from bot.channels.redis_client import LoopBoundRedis
from bot.safety.open_question import KINDS

logger = logging.getLogger(__name__)

REDIS_URL_ENV = "SECURE_BASE_REDIS_URL"
# A reply can come hours later (the user stepped away); after this the note is dropped.
TTL_SECONDS = 12 * 3600.0
CAPACITY = 100_000
REDIS_TIMEOUT_S = 2.0
KEY_PREFIX = "secure-base:open-question:"


def _digest(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode("utf-8", "surrogatepass")).hexdigest()


class MemoryNotes:
    """One process's notes, oldest dropped first beyond ``capacity``."""

    def __init__(self, capacity: int = CAPACITY, ttl_seconds: float = TTL_SECONDS) -> None:
        self.capacity = capacity
        self.ttl_seconds = ttl_seconds
        self._notes: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def mark(self, sender_id: str, kind: str) -> None:
        key = _digest(sender_id)
        self._notes.pop(key, None)
        self._notes[key] = (kind, time.monotonic() + self.ttl_seconds)
        while len(self._notes) > self.capacity:
            self._notes.popitem(last=False)

    def take(self, sender_id: str) -> str | None:
        note = self._notes.pop(_digest(sender_id), None)
        if note is None or note[1] < time.monotonic():
            return None
        return note[0]


class RedisNotes:
    """Notes shared by every process that uses the same Redis."""

    def __init__(self, url: str, ttl_seconds: float = TTL_SECONDS) -> None:
        self.url = url
        self.ttl_ms = int(ttl_seconds * 1000)
        self._connection = LoopBoundRedis(url, REDIS_TIMEOUT_S)

    def _redis(self) -> Any:
        return self._connection.client()

    async def mark(self, sender_id: str, kind: str) -> None:
        await self._redis().set(KEY_PREFIX + _digest(sender_id), kind, px=self.ttl_ms)

    async def take(self, sender_id: str) -> str | None:
        value = await self._redis().getdel(KEY_PREFIX + _digest(sender_id))
        return value.decode("utf-8") if isinstance(value, bytes) else value


class OpenQuestions:
    """The notes, shared when Redis is configured, with memory under it."""

    def __init__(self, shared: RedisNotes | None = None, memory: MemoryNotes | None = None) -> None:
        self.shared = shared
        self.memory = memory or MemoryNotes()

    async def mark(self, sender_id: str, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown open question {kind!r}")
        if self.shared is not None:
            try:
                await self.shared.mark(sender_id, kind)
                self.memory.take(sender_id)  # an older note here must not outlive this one
                return
            except Exception as exc:
                logger.warning("open question: shared store failed (%s)", type(exc).__name__)
        self.memory.mark(sender_id, kind)

    async def take(self, sender_id: str) -> str | None:
        local = self.memory.take(sender_id)
        shared: str | None = None
        if self.shared is not None:
            try:
                shared = await self.shared.take(sender_id)
            except Exception as exc:
                logger.warning("open question: shared store failed (%s)", type(exc).__name__)
        kind = shared or local
        return kind if kind in KINDS else None


def open_questions_from_env(environ: Any = None) -> OpenQuestions:
    """Redis when ``SECURE_BASE_REDIS_URL`` is set, else this process's memory."""
    env = os.environ if environ is None else environ
    url = (env.get(REDIS_URL_ENV) or "").strip()
    return OpenQuestions(RedisNotes(url) if url else None)
