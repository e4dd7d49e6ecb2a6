"""A private corner of the machine's Redis for lock-store tests: db 7, keys under a unique prefix.

Only this test's keys are deleted afterwards (other helpers use the same server). The URL can be
changed with ``SECURE_BASE_TEST_REDIS_URL``; without a reachable Redis the test fails in CI and
is skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

REDIS_URL_ENV = "SECURE_BASE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"


@dataclass(frozen=True)
class RedisCorner:
    """Where a test may write: the server, the db number and an alphanumeric key prefix."""

    host: str
    port: int
    db: int
    prefix: str

    def client(self):  # -> redis.Redis
        import redis

        return redis.Redis(host=self.host, port=self.port, db=self.db)

    def keys(self) -> list[bytes]:
        with self.client() as client:
            return sorted(client.scan_iter(match=f"{self.prefix}*", count=1000))


@pytest.fixture
def redis_corner() -> Iterator[RedisCorner]:
    import redis

    url = redis.connection.parse_url(os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL))
    corner = RedisCorner(
        host=url.get("host", "127.0.0.1"),
        port=int(url.get("port", 6379)),
        db=int(url.get("db", 7)),
        prefix=f"sbtest{uuid.uuid4().hex[:12]}",
    )
    try:
        with corner.client() as client:
            client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"Redis is required in CI but cannot be reached: {error}")
        pytest.skip(f"Redis cannot be reached ({error}); with CI=true this fails instead")
    yield corner
    with corner.client() as client:
        for key in client.scan_iter(match=f"{corner.prefix}*", count=1000):
            client.delete(key)
