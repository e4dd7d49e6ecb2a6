"""ai_notices: when each user last saw the "automated program, not a person" notice (issue 19).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.journal.migration_ops import create_table, drop_table, timestamp

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "ai_notices",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        timestamp("last_seen_at"),
        timestamp("conversation_since"),
        timestamp("last_notice_at", nullable=True),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_ai_notices"),
        indexes=("last_seen_at",),
    )


def downgrade() -> None:
    drop_table("ai_notices", indexes=("last_seen_at",))
