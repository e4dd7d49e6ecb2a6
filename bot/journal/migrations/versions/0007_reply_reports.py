"""reply_reports: bot replies a user reported for the operator to review (issue 19).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.journal.migration_ops import create_table, drop_table, timestamp, user_fk, user_id

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "reply_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("reply_id", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        timestamp("created_at"),
        user_fk("reply_reports"),
        sa.PrimaryKeyConstraint("id", name="pk_reply_reports"),
        indexes=("user_id", "created_at"),
    )


def downgrade() -> None:
    drop_table("reply_reports", indexes=("user_id", "created_at"))
