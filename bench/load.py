"""Load generator: scripted conversations posted to a REST webhook, with bounded counts and time.

Each worker plays whole conversations (a fresh sender per conversation) one turn after the other,
as a person would; ``concurrency`` workers run at once. Every loop stops at a fixed message count
or a time limit, whichever comes first, and only loopback URLs are accepted.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from bench.conversations import Conversation
from deploy import processes

REST_TOKEN_ENV = "SECURE_BASE_REST_TOKEN"

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def require_loopback(url: str) -> None:
    """Refuse anything but a loopback address: the benchmark never loads another machine."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"the benchmark only talks to loopback addresses, not {host!r}")


@dataclass
class LoadResult:
    """What one load run measured."""

    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    empty_answers: int = 0
    wall_s: float = 0.0
    stopped_by_time_limit: bool = False

    @property
    def completed(self) -> int:
        return len(self.latencies_s)

    @property
    def throughput(self) -> float:
        """Successful messages per second of wall time."""
        return self.completed / self.wall_s if self.wall_s > 0 else 0.0

    def merge(self, other: LoadResult) -> LoadResult:
        """Two runs of the same measurement as one (latencies pooled, wall times added)."""
        return LoadResult(
            latencies_s=self.latencies_s + other.latencies_s,
            errors=self.errors + other.errors,
            empty_answers=self.empty_answers + other.empty_answers,
            wall_s=self.wall_s + other.wall_s,
            stopped_by_time_limit=self.stopped_by_time_limit or other.stopped_by_time_limit,
        )


def rest_token() -> str:
    """The REST channel's token for this benchmark run: the environment's, else one made now
    and kept in the environment so every server and the load generator share it."""
    if not os.environ.get(REST_TOKEN_ENV):
        os.environ[REST_TOKEN_ENV] = secrets.token_urlsafe(32)
    return os.environ[REST_TOKEN_ENV]


def rest_headers() -> dict[str, str]:
    """What Secure Base's REST channel needs; Rasa's stock channel (moodbot) ignores it."""
    return processes.rest_headers(rest_token())


async def post_message(
    session: aiohttp.ClientSession, url: str, sender: str, text: str
) -> tuple[int, object]:
    """One webhook round trip; returns (status, parsed JSON or None)."""
    async with session.post(
        url, json={"sender": sender, "message": text}, headers=rest_headers()
    ) as answer:
        try:
            body = await answer.json(content_type=None)
        except (aiohttp.ContentTypeError, ValueError):
            body = None
        return answer.status, body


async def run_load(
    url: str,
    conversations: Sequence[Conversation],
    *,
    concurrency: int,
    messages: int,
    time_limit_s: float,
    sender_prefix: str = "bench",
    request_timeout_s: float = 60.0,
) -> LoadResult:
    """Send ``messages`` turns with ``concurrency`` simultaneous conversations, timed per turn."""
    require_loopback(url)
    if concurrency < 1 or messages < 1 or time_limit_s <= 0:
        raise ValueError("concurrency, messages and time_limit_s must be positive")
    if not conversations:
        raise ValueError("no conversations to play")
    result = LoadResult()
    budget = itertools.count()
    scripts = itertools.cycle(conversations)
    started = time.monotonic()
    deadline = started + time_limit_s
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)

    async def worker(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            conversation = next(scripts)
            sender = f"{sender_prefix}-{conversation.name}-{uuid.uuid4().hex[:12]}"
            for turn in conversation.turns:
                if next(budget) >= messages:
                    return
                if time.monotonic() >= deadline:
                    result.stopped_by_time_limit = True
                    return
                sent = time.perf_counter()
                try:
                    status, body = await post_message(session, url, sender, turn)
                except asyncio.TimeoutError:
                    result.errors["timeout"] += 1
                    continue
                except aiohttp.ClientError as exc:
                    result.errors[type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - sent
                if status != 200:
                    result.errors[f"HTTP {status}"] += 1
                    continue
                if not body:
                    result.empty_answers += 1
                result.latencies_s.append(elapsed)
        result.stopped_by_time_limit = True

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    result.wall_s = time.monotonic() - started
    return result
