"""One asyncio Redis client per event loop, made on first use (the channels' shared stores).

A ``redis.asyncio`` client belongs to the loop it was made on; tests and some servers run more
than one loop in a process. Every call has a short socket timeout: a Redis that hangs must not
hold a user's answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

TIMEOUT_S = 2.0


class LoopBoundRedis:
    """The client for ``url`` on the running loop."""

    def __init__(self, url: str, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio

            self._client = redis.asyncio.Redis.from_url(
                self.url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s
            )
            self._loop = loop
        return self._client
