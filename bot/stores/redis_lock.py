"""A Redis lock store whose every step is one atomic Redis script (Rasa's has a race).

Rasa's ``RedisLockStore`` reads the ticket lock with GET, changes it in Python and writes it back
with SET (Rasa issue 9213). Two processes that take a ticket for one conversation at the same
moment both get the same number and both think it is their turn; a process that cleans up can
delete the lock while another has just queued in it. Either way two turns of one conversation
run at once and Rasa's SQL tracker store, which appends "the events past the count it has",
loses or garbles events. Its tickets also expire after a fixed 60 s even while the holder is
still working, and its waiters poll once a second.

This store keeps the same idea (a first-come-first-served queue of tickets per conversation) in
Redis data that is only ever changed by Lua scripts, so each step is atomic:

* a ticket is a random token in a sorted set ordered by ``INCR`` of a per-conversation counter;
* every ticket has a lease (a second sorted set of expiry times, Redis server clock); waiters
  renew it when they poll, the holder renews it from a heartbeat, so a live turn never expires
  and a dead process's ticket (``kill -9``) is dropped within ``lease_seconds``;
* release removes only the caller's own token (compare-and-delete by construction).

Inside one process, a conversation's turns first queue on a local FIFO, so only one of them at a
time talks to Redis. If Redis cannot be reached the store logs a warning and carries on with
the local queue alone: a conversation routed to one process (nginx sends each sender to the same
process) stays serialised, and users keep getting answers while Redis is down.

endpoints.yml::

    lock_store:
      type: bot.stores.redis_lock.AtomicRedisLockStore
      url: 127.0.0.1          # or redis://host:port/db
      port: 6379
      db: 1
      # optional: password, username, use_ssl, key_prefix, lease_seconds (10),
      # max_wait_seconds (Rasa's lock lifetime, 60), socket_timeout (2)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "securebase:lock:"
DEFAULT_LEASE_SECONDS = 10.0
# Keys of a quiet conversation disappear on their own after this long.
IDLE_TTL_MS = 3_600_000
FIRST_POLL_SECONDS = 0.005
MAX_POLL_SECONDS = 0.05

# Both scripts start by dropping tickets whose lease ran out (their process died or stalled),
# then look at the caller's ticket. Returns: 0 = the caller's turn, n > 0 = n tickets ahead,
# -1 = the caller's ticket is gone (its lease expired).
_CHECK = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function check(token, lease_ms, idle_ms)
  local now = now_ms()
  local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. now)
  for _, d in ipairs(dead) do
    redis.call('ZREM', KEYS[2], d)
    redis.call('ZREM', KEYS[3], d)
  end
  if not redis.call('ZSCORE', KEYS[2], token) then
    return -1
  end
  redis.call('ZADD', KEYS[3], now + lease_ms, token)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], idle_ms) end
  return redis.call('ZRANK', KEYS[2], token)
end
"""
# KEYS: counter, queue, leases. ARGV: token, lease ms, idle ms.
_ENTER = (
    _CHECK
    + """
local n = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], n, ARGV[1])
redis.call('ZADD', KEYS[3], now_ms() + tonumber(ARGV[2]), ARGV[1])
return check(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
"""
)
_POLL = _CHECK + "return check(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))\n"
# KEYS: counter, queue, leases. ARGV: token. The counter stays (with its idle expiry) so that a
# ticket number is never handed out twice while any old ticket could still be around.
_LEAVE = """
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
end
return removed
"""


class _LocalQueue:
    """First-come-first-served turns of one conversation inside this process.

    Hand-rolled instead of ``asyncio.Lock`` + ``wait_for``, which on Python 3.10 can time out
    after the lock was granted and leave it held for ever.
    """

    def __init__(self) -> None:
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def enter(self, timeout: float) -> asyncio.Future[None]:
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(turn)
        if self.waiters[0] is turn:
            turn.set_result(None)
            return turn
        try:
            await asyncio.wait({turn}, timeout=timeout)
        except asyncio.CancelledError:
            self.leave(turn)
            raise
        if not turn.done():
            self.leave(turn)
            raise LockError("timed out waiting for an earlier message of this conversation")
        return turn

    def leave(self, turn: asyncio.Future[None]) -> None:
        was_head = bool(self.waiters) and self.waiters[0] is turn
        try:
            self.waiters.remove(turn)
        except ValueError:
            return
        if was_head and self.waiters and not self.waiters[0].done():
            self.waiters[0].set_result(None)


class AtomicRedisLockStore(LockStore):
    """Per-conversation FIFO lock across processes, each step one atomic Redis script."""

    def __init__(
        self,
        endpoint_config: EndpointConfig | None = None,
        *,
        host: str = "localhost",
        port: int = 6379,
        db: int = 1,
        username: str | None = None,
        password: str | None = None,
        use_ssl: bool = False,
        key_prefix: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        max_wait_seconds: float | None = None,
        socket_timeout: float = 2.0,
    ) -> None:
        options: dict[str, Any] = {
            "host": host,
            "port": port,
            "db": db,
            "username": username,
            "password": password,
            "use_ssl": use_ssl,
            "key_prefix": key_prefix,
            "lease_seconds": lease_seconds,
            "max_wait_seconds": max_wait_seconds,
            "socket_timeout": socket_timeout,
        }
        url: str | None = None
        if endpoint_config is not None:
            unknown = set(endpoint_config.kwargs) - set(options)
            if unknown:
                raise ValueError(
                    f"lock_store ({type(self).__name__}): unknown keys {sorted(unknown)}; "
                    f"known: url, {', '.join(sorted(options))}"
                )
            options.update(endpoint_config.kwargs)
            if endpoint_config.url and "://" in endpoint_config.url:
                url = endpoint_config.url
            elif endpoint_config.url:
                options["host"] = endpoint_config.url
        self.lease_ms = int(float(options["lease_seconds"]) * 1000)
        if self.lease_ms < 1000:
            raise ValueError("lock_store: lease_seconds must be at least 1")
        wait = options["max_wait_seconds"]
        self.max_wait_seconds = float(wait) if wait is not None else None
        self.key_prefix = options["key_prefix"] or DEFAULT_KEY_PREFIX
        self._url = url
        self._client_options = {
            "host": options["host"],
            "port": int(options["port"]),
            "db": int(options["db"]),
            "username": options["username"],
            "password": options["password"],
            "ssl": bool(options["use_ssl"]),
            "socket_timeout": float(options["socket_timeout"]),
            "socket_connect_timeout": float(options["socket_timeout"]),
        }
        self._client: Any = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, Any] = {}
        self._local: dict[str, _LocalQueue] = {}
        self._degraded = False
        super().__init__()

    # -- Redis plumbing ------------------------------------------------------------------------

    def _redis(self) -> Any:
        """The client for the running event loop, made on first use (no connection at import)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            import redis.asyncio

            extra = {"socket_timeout": self._client_options["socket_timeout"]}
            if self._url:
                self._client = redis.asyncio.Redis.from_url(
                    self._url,
                    socket_connect_timeout=self._client_options["socket_connect_timeout"],
                    **extra,
                )
            else:
                self._client = redis.asyncio.Redis(**self._client_options)
            self._client_loop = loop
            self._scripts = {
                name: self._client.register_script(source)
                for name, source in (("enter", _ENTER), ("poll", _POLL), ("leave", _LEAVE))
            }
        return self._client

    def _keys(self, conversation_id: str) -> list[str]:
        # Hashed: sender ids stay out of Redis key listings; the braces keep a conversation's
        # three keys in one Redis Cluster slot.
        digest = hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:32]
        base = f"{self.key_prefix}{{{digest}}}"
        return [f"{base}:n", f"{base}:q", f"{base}:lease"]

    async def _run(self, script: str, conversation_id: str, *args: Any) -> int:
        self._redis()
        return int(await self._scripts[script](keys=self._keys(conversation_id), args=list(args)))

    def _note_redis_error(self, error: Exception) -> None:
        if not self._degraded:
            logger.warning(
                "lock store: Redis unreachable (%s); serialising conversations per process only "
                "until it is back",
                type(error).__name__,
            )
        self._degraded = True

    def _note_redis_ok(self) -> None:
        if self._degraded:
            logger.warning("lock store: Redis reachable again")
        self._degraded = False

    async def aclose(self) -> None:
        """Close the Redis connections (tests; Rasa itself never closes a lock store)."""
        if self._client is not None:
            await self._client.close()
            await self._client.connection_pool.disconnect()
            self._client = None

    # -- Rasa's interface ----------------------------------------------------------------------

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation: wait for earlier messages here, then in Redis, then run.

        ``lock_lifetime`` is Rasa's ticket lifetime; here it bounds the wait (a ticket never
        expires while its holder lives). ``wait_time_in_seconds`` is ignored: waiters poll with
        a short back-off instead of once a second.
        """
        del wait_time_in_seconds
        max_wait = self.max_wait_seconds if self.max_wait_seconds is not None else lock_lifetime
        deadline = time.monotonic() + max_wait
        queue = self._local.setdefault(conversation_id, _LocalQueue())
        turn = await queue.enter(max_wait)
        token: str | None = None
        heartbeat: asyncio.Task[None] | None = None
        try:
            token = await self._enter_redis(conversation_id, deadline)
            if token is not None:
                heartbeat = asyncio.ensure_future(self._keep_alive(conversation_id, token))
            yield TicketLock(conversation_id, deque([Ticket(0, time.time() + max_wait)]))
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            if token is not None:
                await self._leave_redis(conversation_id, token)
            queue.leave(turn)
            if not queue.waiters:
                self._local.pop(conversation_id, None)

    async def _enter_redis(self, conversation_id: str, deadline: float) -> str | None:
        """Queue in Redis and wait for our turn; None when Redis cannot be reached."""
        token = secrets.token_hex(16)
        try:
            ahead = await self._run("enter", conversation_id, token, self.lease_ms, IDLE_TTL_MS)
            pause = FIRST_POLL_SECONDS
            while ahead != 0:
                if ahead < 0:
                    # Our lease ran out while this process was stalled: queue again at the end.
                    token = secrets.token_hex(16)
                    ahead = await self._run(
                        "enter", conversation_id, token, self.lease_ms, IDLE_TTL_MS
                    )
                    continue
                if time.monotonic() >= deadline:
                    await self._leave_redis(conversation_id, token)
                    raise LockError("timed out waiting for this conversation's lock in Redis")
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_POLL_SECONDS)
                ahead = await self._run("poll", conversation_id, token, self.lease_ms, IDLE_TTL_MS)
        except LockError:
            raise
        except asyncio.CancelledError:
            await asyncio.shield(self._leave_redis(conversation_id, token))
            raise
        except Exception as error:  # redis errors, OSError, timeouts: run on the local queue
            self._note_redis_error(error)
            return None
        self._note_redis_ok()
        return token

    async def _keep_alive(self, conversation_id: str, token: str) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                state = await self._run("poll", conversation_id, token, self.lease_ms, IDLE_TTL_MS)
            except Exception as error:
                self._note_redis_error(error)
                continue
            if state != 0:
                logger.warning("lock store: a turn outlived its lease (event loop stalled?)")
                return

    async def _leave_redis(self, conversation_id: str, token: str) -> None:
        try:
            await self._run("leave", conversation_id, token)
        except Exception as error:  # the lease runs out on its own
            self._note_redis_error(error)

    # The stock ticket-lock API reads and writes whole locks from Python, which is exactly the
    # race this store avoids; Rasa only ever calls lock().
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        raise NotImplementedError(f"{type(self).__name__} supports lock() only")

    def save_lock(self, lock: TicketLock) -> None:
        raise NotImplementedError(f"{type(self).__name__} supports lock() only")

    def delete_lock(self, conversation_id: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} supports lock() only")

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        raise NotImplementedError(f"{type(self).__name__} supports lock() only")
