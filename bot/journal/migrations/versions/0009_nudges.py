"""nudges: the "lean on people, not on the bot" reminder's choice and last time (issue 19).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nudges",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("reminders_off", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_nudge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_nudges"),
    )
    op.create_index("ix_nudges_updated_at", "nudges", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_nudges_updated_at", table_name="nudges")
    op.drop_table("nudges")
