"""Bring crisis_counts under Alembic; add telegram_updates (de-duplication across processes).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04

Until now ``bot.safety.counter`` created ``crisis_counts`` itself on first use, so a database
may already have it (same columns): it is kept, with its rows, and only created where missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.journal.migration_ops import create_table, drop_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if not sa.inspect(op.get_bind()).has_table("crisis_counts"):
        op.create_table(
            "crisis_counts",
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("region", sa.String(16), nullable=False),
            sa.Column("channel", sa.String(32), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("day", "region", "channel", name="pk_crisis_counts"),
        )
    create_table(
        "telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name="pk_telegram_updates"),
        indexes=("expires_at",),
    )


def downgrade() -> None:
    drop_table("telegram_updates", indexes=("expires_at",))
    op.drop_table("crisis_counts")
