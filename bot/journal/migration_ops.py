"""The shapes the journal's migrations repeat: a timestamp, the user_id foreign key, a table with
its indexes. Frozen: every revision in ``migrations/versions`` builds its schema with these, so a
change here would change what an old revision creates. A new shape is a new function.

Only columns and operations are built here, never imported from ``bot.journal.models``: a
migration must keep describing the schema of its own day when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


def timestamp(name: str, nullable: bool = False) -> sa.Column:
    """A timezone-aware time column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def user_id() -> sa.Column:
    """The ``user_id`` column of a row that belongs to a user (see ``user_fk``)."""
    return sa.Column("user_id", sa.Integer(), nullable=False)


def user_fk(table: str) -> sa.ForeignKeyConstraint:
    """``table.user_id`` references ``users.id``; erasing the user deletes the row."""
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def create_table(name: str, *items: Any, indexes: Sequence[str] = ()) -> None:
    """``op.create_table`` then one ``ix_<table>_<column>`` index per column in ``indexes``."""
    op.create_table(name, *items)
    for column in indexes:
        op.create_index(f"ix_{name}_{column}", name, [column])


def drop_table(name: str, indexes: Sequence[str] = ()) -> None:
    """Undo ``create_table``: its indexes, last made first, then the table."""
    for column in reversed(indexes):
        op.drop_index(f"ix_{name}_{column}", table_name=name)
    op.drop_table(name)
