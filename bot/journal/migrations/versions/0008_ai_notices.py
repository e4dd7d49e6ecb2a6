"""ai_notices: when each user last saw the "automated program, not a person" notice (issue 19).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_notices",
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conversation_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_notice_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("pseudonym", name="pk_ai_notices"),
    )
    op.create_index("ix_ai_notices_last_seen_at", "ai_notices", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_ai_notices_last_seen_at", table_name="ai_notices")
    op.drop_table("ai_notices")
