"""nudges: the "lean on people, not on the bot" reminder's choice and last time (issue 19).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.journal.migration_ops import create_table, drop_table, timestamp

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "nudges",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("reminders_off", sa.Boolean(), nullable=False, server_default=sa.false()),
        timestamp("last_nudge_at", nullable=True),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_nudges"),
        indexes=("updated_at",),
    )


def downgrade() -> None:
    drop_table("nudges", indexes=("updated_at",))
