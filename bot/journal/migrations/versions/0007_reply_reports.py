"""reply_reports: bot replies a user reported for the operator to review (issue 19).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("reply_id", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_reply_reports_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reply_reports"),
    )
    op.create_index("ix_reply_reports_user_id", "reply_reports", ["user_id"])
    op.create_index("ix_reply_reports_created_at", "reply_reports", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_reply_reports_created_at", table_name="reply_reports")
    op.drop_index("ix_reply_reports_user_id", table_name="reply_reports")
    op.drop_table("reply_reports")
