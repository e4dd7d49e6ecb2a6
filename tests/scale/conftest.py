"""Fixtures for the multi-process tests: a throwaway database, a Redis key prefix, sizes.

The PostgreSQL database is created on the machine's server (127.0.0.1:5432, or
``SECURE_BASE_TEST_POSTGRES_URL``) with a unique name and dropped afterwards; the lock store's
keys live in Redis db 7 (``SECURE_BASE_TEST_REDIS_URL``) under a unique prefix that is deleted
afterwards. Nothing else on the shared servers is touched.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.conftest import DEFAULT_POSTGRES_ADMIN_URL, POSTGRES_ADMIN_URL_ENV, postgres_unreachable

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


@contextmanager
def temporary_database(admin_url: str | None = None) -> Iterator[str]:
    """A new, uniquely named PostgreSQL database, dropped (connections and all) afterwards."""
    admin = make_url(
        admin_url or os.environ.get(POSTGRES_ADMIN_URL_ENV, DEFAULT_POSTGRES_ADMIN_URL)
    )
    name = f"sb_scale_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(
        admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        engine.dispose()
        postgres_unreachable(str(error.orig).strip().splitlines()[0])
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


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
