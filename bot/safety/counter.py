"""Counting crisis events without storing anything a person wrote.

One row per (day, region, channel) with a count: enough to know that the floor is used, and
where, with nothing that could identify a user or repeat their words. The table lives in the
project database (``DATABASE_URL``, default ``sqlite:///<repo>/var/secure_base.db``), created by
the journal's migrations (``python -m bot.journal upgrade``, model ``CrisisCount``), and is
written through the project's cached engine (``bot.database``: connect timeout, pre-ping), the
same one the journal uses. Imported lazily, so detection never loads SQLAlchemy.

``record`` blocks for as long as the database makes it wait (up to the connect timeout):
callers on an event loop run it in a worker thread, after the resources went out
(``bot.channels.failsafe``).

    python -m bot.safety.counter      # print the counts
    python -m bot.safety.report --from 2026-01-01 --to 2026-12-31   # per month and region
"""

from __future__ import annotations

import argparse
import functools
import logging
import re
import sys
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

logger = logging.getLogger(__name__)

DATABASE_URL_ENV = "DATABASE_URL"  # read by bot.database
TABLE_NAME = "crisis_counts"
REGION_MAX = 16  # the column sizes of bot.journal.models.CrisisCount
CHANNEL_MAX = 32
_CHANNEL_RE = re.compile(r"[^a-z0-9_.-]+")


@functools.cache
def crisis_counts() -> Any:
    """The columns the counter writes: the journal's ``CrisisCount`` as seen from here.

    ``bot.safety`` imports nothing of the journal; ``tests/safety/test_safety_counter.py``
    checks that this matches the model the migrations create.
    """
    import sqlalchemy as sa

    return sa.Table(
        TABLE_NAME,
        sa.MetaData(),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("region", sa.String(REGION_MAX), primary_key=True),
        sa.Column("channel", sa.String(CHANNEL_MAX), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def _engine(url: str | None) -> Engine:
    from bot.database import engine_for

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

    table = crisis_counts()
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
        engine = _engine(url)
        with engine.begin() as conn:
            _increment(conn, when, _clean_region(region), _clean_channel(channel))
    except Exception as exc:
        logger.warning("could not count a crisis event (%s)", type(exc).__name__)


def read_counts(
    url: str | None = None, *, since: date | None = None, until: date | None = None
) -> list[tuple[date, str, str, int]]:
    """The counts from ``since`` to ``until`` (both included; None: no bound), oldest first.

    Raises on database errors; see ``read``.
    """
    import sqlalchemy as sa

    table = crisis_counts()
    query = sa.select(table.c.day, table.c.region, table.c.channel, table.c.count)
    if since is not None:
        query = query.where(table.c.day >= since)
    if until is not None:
        query = query.where(table.c.day <= until)
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(table.c.day, table.c.region, table.c.channel)).all()
    return [(row.day, row.region, row.channel, int(row.count)) for row in rows]


def read(url: str | None = None) -> list[tuple[date, str, str, int]]:
    """All counts as (day, region, channel, count), oldest first; [] if the database fails."""
    try:
        return read_counts(url)
    except Exception as exc:
        logger.warning("could not read crisis counts (%s)", type(exc).__name__)
        return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the crisis event counts.")
    parser.add_argument("--url", default=None, help=f"database URL (default: ${DATABASE_URL_ENV})")
    args = parser.parse_args(argv)
    from bot.database import database_url, shown_url

    url = database_url(args.url)
    try:
        rows = read_counts(url)
    except Exception as exc:
        print(f"could not read {TABLE_NAME} from {shown_url(url)}: {type(exc).__name__}")
        return 1
    if not rows:
        print(f"no crisis events counted ({shown_url(url)})")
        return 0
    print(f"{'day':10}  {'region':6}  {'channel':12}  count")
    for day, region, channel, count in rows:
        print(f"{day.isoformat():10}  {region:6}  {channel:12}  {count:5}")
    print(f"total: {sum(r[3] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
