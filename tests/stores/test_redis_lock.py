"""AtomicRedisLockStore against a real Redis, next to Rasa's stock RedisLockStore.

The contention test is the one that matters: several "processes" (threads, each with its own
event loop and its own store instance, as separate Rasa servers have) take turns on one
conversation and, inside the lock, do what Rasa's SQL tracker store does: read a count, work a
little, write the count back. Any overlap loses an update. The stock store shows overlaps, lock
errors or lost updates; the atomic store shows none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from rasa.core.lock_store import LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.stores.redis_lock import AtomicRedisLockStore

CONVERSATION = "a-conversation-under-test"
THREADS = 4
TASKS_PER_THREAD = 2
TURNS_PER_TASK = 15
STOCK_ROUNDS = 3
TURN_LIMIT_SECONDS = 15


@dataclass
class Outcome:
    wanted: int
    completed: int = 0
    overlaps: int = 0
    lock_errors: int = 0
    stuck: int = 0
    counter: int = 0
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return self.completed - self.counter

    @property
    def anomalies(self) -> int:
        return self.overlaps + self.lock_errors + self.stuck + abs(self.lost)


def hammer(
    make_store: Callable[[], LockStore],
    corner,
    *,
    hold: float = 0.002,
    lock_lifetime: float = 60,
    stop_at_first_anomaly: bool = False,
    time_limit: float = 60,
) -> Outcome:
    """Every task takes the lock TURNS_PER_TASK times and increments a counter kept in Redis.

    For the stock store, ``lock_lifetime`` is short (a ticket its race orphans otherwise stalls
    the conversation for Rasa's full 60 s) and the round stops at the first anomaly: after one,
    its waiters can spin until the queue drains.
    """
    counter_key = f"{corner.prefix}:counter"
    outcome = Outcome(wanted=THREADS * TASKS_PER_THREAD * TURNS_PER_TASK)
    guard = threading.Lock()
    inside = 0
    started = time.monotonic()

    def stop() -> bool:
        if time.monotonic() - started > time_limit:
            return True
        return stop_at_first_anomaly and bool(outcome.overlaps or outcome.lock_errors)

    def process() -> None:
        async def turn(store: LockStore, counts) -> None:
            nonlocal inside
            async with store.lock(
                CONVERSATION, lock_lifetime=lock_lifetime, wait_time_in_seconds=0.005
            ):
                with guard:
                    inside += 1
                    if inside > 1:
                        outcome.overlaps += 1
                value = int(counts.get(counter_key) or 0)
                await asyncio.sleep(hold)
                counts.set(counter_key, value + 1)
                with guard:
                    inside -= 1
                    outcome.completed += 1

        async def task(store: LockStore, counts) -> None:
            for _ in range(TURNS_PER_TASK):
                if stop():
                    return
                try:
                    # The stock store can wait for ever once its own ticket was overwritten.
                    await asyncio.wait_for(turn(store, counts), TURN_LIMIT_SECONDS)
                except LockError:
                    with guard:
                        outcome.lock_errors += 1
                except asyncio.TimeoutError:
                    with guard:
                        outcome.stuck += 1

        async def main() -> None:
            store = make_store()
            with corner.client() as counts:
                await asyncio.gather(*(task(store, counts) for _ in range(TASKS_PER_THREAD)))
            if isinstance(store, AtomicRedisLockStore):
                await store.aclose()

        asyncio.run(main())

    threads = [threading.Thread(target=process, daemon=True) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_limit + 60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    outcome.seconds = round(time.monotonic() - started, 2)
    with corner.client() as client:
        outcome.counter = int(client.get(counter_key) or 0)
        client.delete(counter_key)
    return outcome


def atomic_store(corner, **options) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(
        host=corner.host, port=corner.port, db=corner.db, key_prefix=f"{corner.prefix}:", **options
    )


def test_stock_store_lets_two_processes_into_one_conversation(redis_corner) -> None:
    """Rasa issue 9213: GET, change in Python, SET. The race shows within a few rounds."""

    def stock() -> RedisLockStore:
        return RedisLockStore(
            host=redis_corner.host,
            port=redis_corner.port,
            db=redis_corner.db,
            key_prefix=redis_corner.prefix,
        )

    rounds = []
    for _ in range(STOCK_ROUNDS):
        rounds.append(
            hammer(stock, redis_corner, lock_lifetime=3, stop_at_first_anomaly=True, time_limit=30)
        )
        if rounds[-1].anomalies:
            break
    print(f"\nstock RedisLockStore: {rounds}")
    assert any(outcome.anomalies for outcome in rounds)


def test_stock_store_race_step_by_step(redis_corner) -> None:
    """The same race without luck: two processes read the lock before either writes it back."""
    one, two = (
        RedisLockStore(
            host=redis_corner.host,
            port=redis_corner.port,
            db=redis_corner.db,
            key_prefix=redis_corner.prefix,
        )
        for _ in range(2)
    )
    lock_one = one.get_or_create_lock(CONVERSATION)
    lock_two = two.get_or_create_lock(CONVERSATION)
    ticket_one = lock_one.issue_ticket(60)
    one.save_lock(lock_one)
    ticket_two = lock_two.issue_ticket(60)
    two.save_lock(lock_two)

    async def both_acquire() -> None:
        await one._acquire_lock(CONVERSATION, ticket_one, 0.01)
        await two._acquire_lock(CONVERSATION, ticket_two, 0.01)

    asyncio.run(asyncio.wait_for(both_acquire(), 5))
    assert ticket_one == ticket_two


def test_atomic_store_serialises_the_same_contention(redis_corner) -> None:
    outcome = hammer(lambda: atomic_store(redis_corner), redis_corner)
    print(f"\nAtomicRedisLockStore: {outcome}")
    assert (outcome.overlaps, outcome.lock_errors) == (0, 0)
    assert outcome.completed == outcome.counter == outcome.wanted


async def test_turns_across_processes_are_first_come_first_served(redis_corner) -> None:
    stores = [atomic_store(redis_corner) for _ in range(3)]
    order: list[str] = []
    first_inside = asyncio.Event()

    async def turn(store: AtomicRedisLockStore, name: str, hold: float) -> None:
        async with store.lock(CONVERSATION):
            order.append(f"{name} in")
            first_inside.set()
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    first = asyncio.ensure_future(turn(stores[0], "a", 0.3))
    await first_inside.wait()
    second = asyncio.ensure_future(turn(stores[1], "b", 0.0))
    await asyncio.sleep(0.1)  # b is queued in Redis before c asks
    third = asyncio.ensure_future(turn(stores[2], "c", 0.0))
    await asyncio.gather(first, second, third)
    assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
    for store in stores:
        await store.aclose()


async def test_a_dead_holder_blocks_only_until_its_lease_runs_out(redis_corner) -> None:
    """A process killed while holding a conversation (kill -9) leaves its ticket behind."""
    dead = atomic_store(redis_corner, lease_seconds=1)
    alive = atomic_store(redis_corner, lease_seconds=1, max_wait_seconds=20)
    # The dead process queued and got its turn, then never renewed nor released it.
    ahead = await dead._run("enter", CONVERSATION, "dead-token", dead.lease_ms, 60_000)
    assert ahead == 0
    entered = False
    async with alive.lock(CONVERSATION):
        entered = True
    assert entered
    await dead.aclose()
    await alive.aclose()


async def test_a_live_holder_keeps_its_turn_past_the_lease(redis_corner) -> None:
    """The heartbeat renews the lease, so a slow turn is not overtaken (Rasa's expire at 60 s)."""
    slow = atomic_store(redis_corner, lease_seconds=1)
    other = atomic_store(redis_corner, lease_seconds=1)
    order: list[str] = []
    inside = asyncio.Event()

    async def slow_turn() -> None:
        async with slow.lock(CONVERSATION):
            inside.set()
            order.append("slow in")
            await asyncio.sleep(2.5)
            order.append("slow out")

    async def other_turn() -> None:
        await inside.wait()
        async with other.lock(CONVERSATION):
            order.append("other in")

    await asyncio.gather(slow_turn(), other_turn())
    assert order == ["slow in", "slow out", "other in"]
    await slow.aclose()
    await other.aclose()


@contextlib.asynccontextmanager
async def _held_by(store: AtomicRedisLockStore) -> AsyncIterator[None]:
    """Inside the block, ``store`` (another process) holds the conversation; then lets go."""
    inside = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with store.lock(CONVERSATION):
            inside.set()
            await release.wait()

    holding = asyncio.ensure_future(hold())
    await inside.wait()
    yield
    release.set()
    await holding


async def test_a_cancelled_waiter_leaves_the_queue(redis_corner) -> None:
    holder, waiter, later = (atomic_store(redis_corner) for _ in range(3))

    async def wait_forever() -> None:
        async with waiter.lock(CONVERSATION):
            raise AssertionError("the cancelled waiter must never get its turn")

    async with _held_by(holder):
        waiting = asyncio.ensure_future(wait_forever())
        await asyncio.sleep(0.1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    entered = False
    async with later.lock(CONVERSATION):
        entered = True
    assert entered
    for store in (holder, waiter, later):
        await store.aclose()


async def test_waiting_too_long_raises_lock_error(redis_corner) -> None:
    holder = atomic_store(redis_corner)
    impatient = atomic_store(redis_corner, max_wait_seconds=0.3)
    async with _held_by(holder):
        with pytest.raises(LockError):
            async with impatient.lock(CONVERSATION):
                pass
    for store in (holder, impatient):
        await store.aclose()


async def test_keys_hold_no_sender_id_and_go_away_after_use(redis_corner) -> None:
    store = atomic_store(redis_corner)
    sender = "telegram-123456789"
    async with store.lock(sender):
        during = redis_corner.keys()
    after = redis_corner.keys()
    await store.aclose()
    assert len(during) == 3
    assert not any(sender.encode() in key for key in during)
    # Only the ticket counter stays (with an idle expiry), so numbers are never reused.
    assert [key.endswith(b":n") for key in after] == [True]
    with redis_corner.client() as client:
        assert 0 < client.pttl(after[0]) <= 3_600_000


async def test_without_redis_a_process_still_serialises_and_answers(caplog) -> None:
    """Redis down: users keep getting answers; one process still runs a conversation in order."""
    from deploy.processes import free_port

    store = AtomicRedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=0.5)
    inside = 0
    overlaps = 0

    async def turn() -> None:
        nonlocal inside, overlaps
        async with store.lock(CONVERSATION):
            inside += 1
            overlaps += inside > 1
            await asyncio.sleep(0.01)
            inside -= 1

    with caplog.at_level(logging.WARNING, logger="bot.stores.redis_lock"):
        await asyncio.gather(*(turn() for _ in range(5)))
    await store.aclose()
    assert overlaps == 0
    warnings = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert CONVERSATION not in caplog.text


def test_rasa_builds_the_store_from_endpoints(redis_corner) -> None:
    config = EndpointConfig(
        url=f"redis://{redis_corner.host}:{redis_corner.port}/{redis_corner.db}",
        type="bot.stores.redis_lock.AtomicRedisLockStore",
        key_prefix=f"{redis_corner.prefix}:",
        lease_seconds=5,
    )
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.lease_ms == 5000

    async def use() -> None:
        async with store.lock(CONVERSATION):
            assert len(redis_corner.keys()) == 3
        await store.aclose()

    asyncio.run(use())


def test_an_unknown_setting_is_named() -> None:
    config = EndpointConfig(url="127.0.0.1", type="x", lease_secs=5)
    with pytest.raises(ValueError, match="lease_secs"):
        AtomicRedisLockStore(endpoint_config=config)
