"""Which Telegram updates were taken and answered, shared by every server process.

Telegram re-sends an update when our answer is slow, lost or not 200, and nginx may hand the
repeat to any Rasa process, also after a restart. Recording an id before it was answered loses
the message when that attempt is cancelled or crashes (a crisis message was then never
answered); recording it only afterwards answers twice. So an id goes through two states:

- ``claimed`` by one process while it works on the update, for ``claim_seconds`` and renewed
  while the work goes on; a claim that ran out (the process died) can be taken over;
- ``done`` once it was answered, kept for ``done_seconds`` (Telegram gives up re-sending long
  before that).

``claim`` answers ``"new"`` (go ahead), ``"busy"`` (another attempt is working on it: let
Telegram try again later) or ``"done"`` (answered already). Backends: Redis (``SET NX`` with a
TTL) when ``SECURE_BASE_REDIS_URL`` is set, else the ``telegram_updates`` table in
``DATABASE_URL`` (Alembic revision 0003), else this process's memory. A backend that fails
falls back to memory for that update: answering twice is better than never.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from typing import Any, Protocol

from bot.channels.redis_client import LoopBoundRedis

logger = logging.getLogger(__name__)

REDIS_URL_ENV = "SECURE_BASE_REDIS_URL"
DATABASE_URL_ENV = "DATABASE_URL"
CLAIM_SECONDS = 30.0
DONE_SECONDS = 24 * 3600.0
REDIS_TIMEOUT_S = 2.0
KEY_PREFIX = "secure-base:telegram-update:"

NEW, BUSY, DONE = "new", "busy", "done"


class Ledger(Protocol):
    async def claim(self, update_id: int) -> str: ...

    async def renew(self, update_id: int) -> None: ...

    async def finish(self, update_id: int) -> None: ...


class MemoryLedger:
    """One process's memory: the fallback, and the backend when no database is configured."""

    def __init__(
        self,
        capacity: int = 10_000,
        claim_seconds: float = CLAIM_SECONDS,
        done_seconds: float = DONE_SECONDS,
    ) -> None:
        self.capacity = capacity
        self.claim_seconds = claim_seconds
        self.done_seconds = done_seconds
        self._entries: OrderedDict[int, tuple[str, float]] = OrderedDict()

    def _put(self, update_id: int, state: str, seconds: float) -> None:
        self._entries[update_id] = (state, time.monotonic() + seconds)
        self._entries.move_to_end(update_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    async def claim(self, update_id: int) -> str:
        entry = self._entries.get(update_id)
        if entry is not None and entry[1] > time.monotonic():
            return DONE if entry[0] == DONE else BUSY
        self._put(update_id, "claimed", self.claim_seconds)
        return NEW

    async def renew(self, update_id: int) -> None:
        entry = self._entries.get(update_id)
        if entry is not None and entry[0] != DONE:
            self._put(update_id, "claimed", self.claim_seconds)

    async def finish(self, update_id: int) -> None:
        self._put(update_id, DONE, self.done_seconds)

    def forget(self, update_id: int) -> None:
        self._entries.pop(update_id, None)


class RedisLedger:
    """Redis keys with a TTL: ``SET NX`` makes the claim atomic across processes."""

    def __init__(
        self,
        url: str,
        claim_seconds: float = CLAIM_SECONDS,
        done_seconds: float = DONE_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self.url = url
        self.claim_ms = int(claim_seconds * 1000)
        self.done_ms = int(done_seconds * 1000)
        self.key_prefix = key_prefix
        self._connection = LoopBoundRedis(url, REDIS_TIMEOUT_S)

    def _redis(self) -> Any:
        return self._connection.client()

    def _key(self, update_id: int) -> str:
        return f"{self.key_prefix}{update_id}"

    async def claim(self, update_id: int) -> str:
        client = self._redis()
        key = self._key(update_id)
        if await client.set(key, "claimed", nx=True, px=self.claim_ms):
            return NEW
        return DONE if await client.get(key) == b"done" else BUSY

    async def renew(self, update_id: int) -> None:
        # Only a claim is renewed: "done" must keep its own, longer TTL.
        client = self._redis()
        key = self._key(update_id)
        if await client.get(key) == b"claimed":
            await client.pexpire(key, self.claim_ms)

    async def finish(self, update_id: int) -> None:
        await self._redis().set(self._key(update_id), "done", px=self.done_ms)


class DatabaseLedger:
    """The ``telegram_updates`` table; each step one statement, run off the event loop."""

    def __init__(
        self,
        url: str,
        claim_seconds: float = CLAIM_SECONDS,
        done_seconds: float = DONE_SECONDS,
    ) -> None:
        self.url = url
        self.claim_seconds = claim_seconds
        self.done_seconds = done_seconds
        self._finished = 0

    def _table(self) -> Any:
        from bot.journal.models import TelegramUpdate

        return TelegramUpdate.__table__

    def _engine(self) -> Any:
        from bot.journal.db import engine_for

        return engine_for(self.url)

    def _claim(self, update_id: int) -> str:
        import sqlalchemy as sa

        table = self._table()
        now = time.time()
        with self._engine().begin() as conn:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            inserted = conn.execute(
                insert(table)
                .values(update_id=update_id, state="claimed", expires_at=now + self.claim_seconds)
                .on_conflict_do_nothing(index_elements=[table.c.update_id])
            )
            if inserted.rowcount == 1:
                return NEW
            # A claim whose process died (it was not renewed) may be taken over; one UPDATE,
            # so two processes cannot both take it.
            taken = conn.execute(
                sa.update(table)
                .where(
                    (table.c.update_id == update_id)
                    & (table.c.state == "claimed")
                    & (table.c.expires_at < now)
                )
                .values(expires_at=now + self.claim_seconds)
            )
            if taken.rowcount == 1:
                return NEW
            state = conn.execute(
                sa.select(table.c.state).where(table.c.update_id == update_id)
            ).scalar()
        return DONE if state == DONE else BUSY

    def _renew(self, update_id: int) -> None:
        import sqlalchemy as sa

        table = self._table()
        with self._engine().begin() as conn:
            conn.execute(
                sa.update(table)
                .where((table.c.update_id == update_id) & (table.c.state == "claimed"))
                .values(expires_at=time.time() + self.claim_seconds)
            )

    def _finish(self, update_id: int) -> None:
        import sqlalchemy as sa

        table = self._table()
        now = time.time()
        with self._engine().begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.update_id == update_id)
                .values(state=DONE, expires_at=now + self.done_seconds)
            )
            self._finished += 1
            if self._finished % 500 == 1:  # now and then, not on every update
                conn.execute(
                    sa.delete(table).where((table.c.state == DONE) & (table.c.expires_at < now))
                )

    async def claim(self, update_id: int) -> str:
        return await asyncio.to_thread(self._claim, update_id)

    async def renew(self, update_id: int) -> None:
        await asyncio.to_thread(self._renew, update_id)

    async def finish(self, update_id: int) -> None:
        await asyncio.to_thread(self._finish, update_id)


class FallbackLedger:
    """A shared ledger that never blocks an answer: when it fails, this process's memory decides."""

    def __init__(self, shared: Ledger | None, memory: MemoryLedger | None = None) -> None:
        self.shared = shared
        self.memory = memory or MemoryLedger()

    async def _try(self, step: str, update_id: int) -> str | None:
        if self.shared is None:
            return None
        try:
            return await getattr(self.shared, step)(update_id)
        except Exception as exc:
            logger.warning(
                "telegram update ledger unavailable during %s (%s); this process decides alone",
                step,
                type(exc).__name__,
            )
            return None

    async def claim(self, update_id: int) -> str:
        local = await self.memory.claim(update_id)
        if local != NEW:
            return local
        shared = await self._try("claim", update_id)
        if shared == DONE:
            await self.memory.finish(update_id)
        elif shared == BUSY:
            self.memory.forget(update_id)  # not ours: ask the shared ledger again next time
        return shared if shared is not None else NEW

    async def renew(self, update_id: int) -> None:
        await self.memory.renew(update_id)
        await self._try("renew", update_id)

    async def finish(self, update_id: int) -> None:
        await self.memory.finish(update_id)
        await self._try("finish", update_id)


def ledger_from_env(environ: Any = None) -> FallbackLedger:
    """Redis when ``SECURE_BASE_REDIS_URL`` is set, else ``DATABASE_URL``, else memory only."""
    env = os.environ if environ is None else environ
    redis_url = (env.get(REDIS_URL_ENV) or "").strip()
    if redis_url:
        return FallbackLedger(RedisLedger(redis_url))
    database_url = (env.get(DATABASE_URL_ENV) or "").strip()
    if database_url:
        return FallbackLedger(DatabaseLedger(database_url))
    logger.warning(
        "telegram: neither %s nor %s is set; duplicate updates are caught per process only",
        REDIS_URL_ENV,
        DATABASE_URL_ENV,
    )
    return FallbackLedger(None)
