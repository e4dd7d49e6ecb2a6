"""Counting crisis events without storing anything a person wrote.

One row per (day, region, channel) with a count: enough to know that the floor is used, and
where, with nothing that could identify a user or repeat their words. The table lives in the
project database (``DATABASE_URL``, default ``sqlite:///<repo>/var/secure_base.db``), created by
the journal's migrations (``python -m bot.journal upgrade``), and is written through the
journal's engine (``bot.journal.db``: connect timeout, pre-ping). That import is the one place
``bot.safety`` reaches outside itself, made lazily so detection never loads SQLAlchemy.

``record`` blocks for as long as the database makes it wait (up to the connect timeout):
callers on an event loop run it in a worker thread, after the resources went out
(``bot.channels.failsafe``).

    python -m bot.safety.counter      # print the counts
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from bot.safety.yaml_data import PROJECT_ROOT

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

DATABASE_URL_ENV = "DATABASE_URL"
DEFAULT_DATABASE_PATH = PROJECT_ROOT / "var" / "secure_base.db"
TABLE_NAME = "crisis_counts"
REGION_MAX = 16  # the column sizes of bot.journal.models.CrisisCount
CHANNEL_MAX = 32
_CHANNEL_RE = re.compile(r"[^a-z0-9_.-]+")


def database_url() -> str:
    """``DATABASE_URL`` or the project's SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_DATABASE_PATH}"


def _crisis_counts() -> Any:
    from bot.journal.models import CrisisCount

    return CrisisCount.__table__


def _engine(url: str) -> Engine:
    from bot.journal.db import engine_for

    return engine_for(url)


def _clean_region(region: object) -> str:
    if not isinstance(region, str) or not region.strip():
        return "UNSET"
    try:
        from bot.safety.resources import resolve_region

        return resolve_region(region)
    except Exception:  # counting must not depend on the resources file
        code = re.sub(r"[^A-Z]", "", region.upper())[:REGION_MAX]
        return code or "UNSET"


def _clean_channel(channel: object) -> str:
    if not isinstance(channel, str):
        return "unknown"
    return _CHANNEL_RE.sub("_", channel.strip().lower())[:CHANNEL_MAX] or "unknown"


def _increment(conn: Connection, day: date, region: str, channel: str) -> None:
    import sqlalchemy as sa

    table = _crisis_counts()
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        statement = insert(table).values(day=day, region=region, channel=channel, count=1)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.day, table.c.region, table.c.channel],
            set_={"count": table.c.count + 1},
        )
        conn.execute(statement)
        return
    key = (table.c.day == day) & (table.c.region == region) & (table.c.channel == channel)
    updated = conn.execute(sa.update(table).where(key).values(count=table.c.count + 1))
    if updated.rowcount == 0:
        conn.execute(sa.insert(table).values(day=day, region=region, channel=channel, count=1))


def record(region: str, channel: str, day: date | None = None, *, url: str | None = None) -> None:
    """Count one crisis event for (day, region, channel). Never raises into the caller.

    ``day`` defaults to today in UTC. Only the region code and the channel name are stored.
    """
    try:
        when = day or datetime.now(timezone.utc).date()
        engine = _engine(url or database_url())
        with engine.begin() as conn:
            _increment(conn, when, _clean_region(region), _clean_channel(channel))
    except Exception as exc:
        logger.warning("could not count a crisis event (%s)", type(exc).__name__)


def read_counts(url: str | None = None) -> list[tuple[date, str, str, int]]:
    """All counts, oldest first (raises on database errors; see ``read``)."""
    import sqlalchemy as sa

    table = _crisis_counts()
    engine = _engine(url or database_url())
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(table.c.day, table.c.region, table.c.channel, table.c.count).order_by(
                table.c.day, table.c.region, table.c.channel
            )
        ).all()
    return [(row.day, row.region, row.channel, int(row.count)) for row in rows]


def read(url: str | None = None) -> list[tuple[date, str, str, int]]:
    """All counts as (day, region, channel, count), oldest first; [] if the database fails."""
    try:
        return read_counts(url)
    except Exception as exc:
        logger.warning("could not read crisis counts (%s)", type(exc).__name__)
        return []


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the crisis event counts.")
    parser.add_argument("--url", default=None, help=f"database URL (default: ${DATABASE_URL_ENV})")
    args = parser.parse_args(argv)
    url = args.url or database_url()
    try:
        rows = read_counts(url)
    except Exception as exc:
        print(f"could not read {TABLE_NAME} from {_redacted(url)}: {type(exc).__name__}")
        return 1
    if not rows:
        print(f"no crisis events counted ({_redacted(url)})")
        return 0
    print(f"{'day':10}  {'region':6}  {'channel':12}  count")
    for day, region, channel, count in rows:
        print(f"{day.isoformat():10}  {region:6}  {channel:12}  {count:5}")
    print(f"total: {sum(r[3] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
