"""ended_sessions: web sessions closed by an erasure, so their old tokens open nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.journal.migration_ops import create_table, drop_table, timestamp

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "ended_sessions",
        sa.Column("session_hash", sa.String(64), nullable=False),
        timestamp("ended_at"),
        timestamp("expires_at"),
        sa.PrimaryKeyConstraint("session_hash", name="pk_ended_sessions"),
        indexes=("expires_at",),
    )


def downgrade() -> None:
    drop_table("ended_sessions", indexes=("expires_at",))
