"""Rasa's conversation log (``events``, written by ``SQLTrackerStore``) as the journal sees it.

The table belongs to Rasa: we read it by reflection, only when it exists, and only ever delete
rows from it (for erasure and retention). Rows are keyed by the raw sender id, since that is
how Rasa stores them; the journal itself never keeps that id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

EVENTS_TABLE = "events"


def events_table(session: Session) -> sa.Table | None:
    """Rasa's events table as it is in this database, or None before Rasa has created it."""
    connection = session.connection()
    if not sa.inspect(connection).has_table(EVENTS_TABLE):
        return None
    return sa.Table(EVENTS_TABLE, sa.MetaData(), autoload_with=connection)


def _decoded(row: Any) -> dict[str, Any]:
    item = dict(row)
    try:
        item["data"] = json.loads(item["data"]) if item["data"] is not None else None
    except ValueError:
        pass  # keep the stored text as it is: an export must not drop anything
    return item


def export_events(session: Session, sender_id: str) -> list[dict[str, Any]]:
    """Every stored event of ``sender_id`` in order, ``data`` decoded from its JSON text."""
    table = events_table(session)
    if table is None:
        return []
    rows = session.execute(
        sa.select(table).where(table.c.sender_id == sender_id).order_by(table.c.id)
    ).mappings()
    return [_decoded(row) for row in rows]


def newest_events(
    session: Session, sender_id: str, budget: int, size: Callable[[Any], int]
) -> tuple[list[dict[str, Any]], int]:
    """The newest events of ``sender_id`` whose ``size`` adds up to at most ``budget``, in order,
    and how many older ones were left out.

    Read newest first and only as far as they fit, so a long log is never held in memory.
    """
    table = events_table(session)
    if table is None:
        return [], 0
    where = table.c.sender_id == sender_id
    kept: list[dict[str, Any]] = []
    used = 0
    result = session.execute(
        sa.select(table).where(where).order_by(table.c.id.desc()),
        execution_options={"stream_results": True},
    ).mappings()
    try:
        for row in result:
            item = _decoded(row)
            used += size(item)
            if used > budget:
                break
            kept.append(item)
    finally:
        result.close()
    total = session.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one()
    kept.reverse()
    return kept, total - len(kept)


def user_message_times(session: Session, sender_id: str, since: datetime) -> list[datetime]:
    """When ``sender_id`` wrote since ``since``, oldest first, from the log's ``timestamp``
    column (aware UTC): no text is read."""
    table = events_table(session)
    if table is None:
        return []
    rows = session.execute(
        sa.select(table.c.timestamp)
        .where(
            table.c.sender_id == sender_id,
            table.c.type_name == "user",
            table.c.timestamp >= since.timestamp(),
        )
        .order_by(table.c.timestamp)
    ).scalars()
    return [datetime.fromtimestamp(float(stamp), tz=timezone.utc) for stamp in rows]


def delete_events(session: Session, sender_id: str) -> int:
    """Remove the whole conversation log of ``sender_id``; returns the number of rows."""
    table = events_table(session)
    if table is None:
        return 0
    return session.execute(sa.delete(table).where(table.c.sender_id == sender_id)).rowcount


def purge_events(session: Session, cutoff: datetime) -> int:
    """Remove events older than ``cutoff`` (Rasa stores ``timestamp`` as Unix seconds)."""
    table = events_table(session)
    if table is None:
        return 0
    return session.execute(sa.delete(table).where(table.c.timestamp < cutoff.timestamp())).rowcount


def count_events(session: Session) -> int | None:
    """Number of rows in ``events``, or None when the table does not exist."""
    table = events_table(session)
    if table is None:
        return None
    return session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
