"""Fixtures for the multi-process tests: a Redis key prefix and sizes.

Their throwaway PostgreSQL database is ``temporary_database("sb_scale")`` of tests/conftest.py
(the machine's server, 127.0.0.1:5432, or ``SECURE_BASE_TEST_POSTGRES_URL``); the lock store's
keys live in Redis db 7 (``SECURE_BASE_TEST_REDIS_URL``) under a unique prefix that is deleted
afterwards. Nothing else on the shared servers is touched.
"""

from __future__ import annotations

import os

REDIS_URL_ENV = "SECURE_BASE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"


def env_int(name: str, default: int) -> int:
    """A positive whole number from the environment (the test sizes)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {raw!r}")
    return value


def redis_location() -> tuple[str, int, int]:
    import redis

    url = redis.connection.parse_url(os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL))
    return url.get("host", "127.0.0.1"), int(url.get("port", 6379)), int(url.get("db", 7))


def delete_redis_keys(prefix: str) -> None:
    """Delete this run's lock keys, and nothing else, from the shared Redis."""
    import redis

    host, port, db = redis_location()
    with redis.Redis(host=host, port=port, db=db) as client:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
