"""Several Rasa processes behind nginx on one PostgreSQL and one Redis lock store: nothing lost.

Sizes come from the environment so CI runs a smaller load than the full one (deploy/README.md):
SECURE_BASE_SCALE_CONVERSATIONS (default 20), SECURE_BASE_SCALE_TURNS (10),
SECURE_BASE_SCALE_BURST (4 messages sent at once), SECURE_BASE_SCALE_RASA (2 processes) and
SECURE_BASE_SCALE_LOCK_STORE (atomic; "stock" measures Rasa's own RedisLockStore instead).

Half the conversations name their sender in a header, so nginx keeps each on one process; the
other half are spread at random, so a burst lands on several processes at once and only the
lock store keeps its messages apart. The printed numbers are the measurement; the assertions
are about correctness only.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from deploy.cluster import Cluster, Settings
from tests.conftest import temporary_database
from tests.scale.conftest import delete_redis_keys, env_int, redis_location
from tests.scale.traffic import audit, report, run_conversations, stored_user_messages

pytestmark = [pytest.mark.server, pytest.mark.postgres]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    host, port, db = redis_location()
    prefix = f"sbscale{uuid.uuid4().hex[:10]}"
    with temporary_database("sb_scale") as database_url:
        settings = Settings(
            database_url=database_url,
            workdir=tmp_path_factory.mktemp("cluster"),
            rasa_processes=env_int("SECURE_BASE_SCALE_RASA", 2),
            action_servers=2,
            redis_host=host,
            redis_port=port,
            redis_db=db,
            lock_store=os.environ.get("SECURE_BASE_SCALE_LOCK_STORE", "atomic"),
            lock_key_prefix=prefix,
            env={"SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32)},
        )
        try:
            with Cluster(settings) as running:
                yield running
        finally:
            delete_redis_keys(prefix)


def upstream_counts(cluster: Cluster, path_start: str = "POST") -> Counter[str]:
    """Requests per Rasa process, from nginx's access log (its format names the upstream)."""
    log = cluster.nginx_conf.parent / "access.log"
    counts: Counter[str] = Counter()
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] == path_start:
            counts[parts[3]] += 1
    return counts


def test_load_through_nginx_loses_duplicates_and_reorders_nothing(cluster: Cluster) -> None:
    conversations = env_int("SECURE_BASE_SCALE_CONVERSATIONS", 20)
    turns = env_int("SECURE_BASE_SCALE_TURNS", 10)
    burst = env_int("SECURE_BASE_SCALE_BURST", 4)
    run = uuid.uuid4().hex[:8]
    senders = [f"load-{run}-{i}" for i in range(conversations)]
    before = upstream_counts(cluster)

    replies, wall = asyncio.run(
        run_conversations(
            cluster.webhook_url,
            senders,
            turns=turns,
            burst=burst,
            pinned=lambda i: i % 2 == 0,
            headers=cluster.rest_headers,
        )
    )
    spread = upstream_counts(cluster) - before
    result = audit(replies, stored_user_messages(cluster.settings.database_url, senders))
    title = (
        f"{conversations} conversations x {turns} turns, bursts of {burst}, "
        f"{len(cluster.rasa_ports)} Rasa processes, lock store {cluster.settings.lock_store}"
    )
    print("\n" + report(title, replies, wall, result))
    print(f"requests per Rasa process (nginx upstream): {dict(spread)}")

    assert result.server_errors == 0
    assert result.statuses == Counter({200: conversations * turns})
    assert result.answered == conversations * turns
    assert (result.lost, result.duplicated, result.reordered) == ([], [], [])
    assert result.stored == conversations * turns
    assert len(spread) == len(cluster.rasa_ports), "every Rasa process should take a share"


class PollingClient:
    """A socket.io client on long-polling only, with a cookie jar (as a browser has)."""

    def __init__(self) -> None:
        import socketio

        # aiohttp's default jar refuses cookies from an IP address such as 127.0.0.1.
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.confirms: asyncio.Queue[Any] = asyncio.Queue()
        self.utterances: asyncio.Queue[dict] = asyncio.Queue()
        self.sio.on("session_confirm", self.confirms.put_nowait)
        self.sio.on("bot_uttered", self.utterances.put_nowait)

    async def converse(self, url: str, turns: int) -> list[str]:
        await self.sio.connect(
            url,
            headers={"Origin": url},
            transports=["polling"],
            socketio_path="/socket.io",
            wait_timeout=60,
        )
        await self.sio.emit("session_request", {"session_id": None})
        token = await asyncio.wait_for(self.confirms.get(), 60)
        answers = []
        for seq in range(1, turns + 1):
            await self.sio.emit(
                "user_uttered",
                {"message": f"seq {seq}: what is codependency?", "session_id": token},
            )
            answers.append((await asyncio.wait_for(self.utterances.get(), 120)).get("text", ""))
        return answers

    async def close(self) -> None:
        await self.sio.eio.disconnect(abort=True)
        await self.http.close()


def test_socketio_long_polling_sticks_to_one_process(cluster: Cluster) -> None:
    """Each poll is a new request; without the affinity cookie it could reach a process that
    does not know the socket.io session and be refused. Which process a session lands on is
    random (printed); with 8 sessions and 2 processes all land on one only 1 time in 128."""
    clients_count, turns = 8, 3

    async def main() -> list[list[str]]:
        clients = [PollingClient() for _ in range(clients_count)]
        try:
            return await asyncio.gather(*(c.converse(cluster.base_url, turns) for c in clients))
        finally:
            for client in clients:
                await client.close()

    before = upstream_counts(cluster, "GET")
    answers = asyncio.run(main())
    spread = upstream_counts(cluster, "GET") - before
    print(f"\nsocket.io polls per Rasa process: {dict(spread)}")
    assert all(len(a) == turns and all(a) for a in answers)
