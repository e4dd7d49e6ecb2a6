"""safety_plans: the user's own safety plan (issue 18), one row per user.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("warning_signs", sa.JSON(), nullable=False),
        sa.Column("coping", sa.JSON(), nullable=False),
        sa.Column("social", sa.JSON(), nullable=False),
        sa.Column("helpers", sa.JSON(), nullable=False),
        sa.Column("professionals", sa.JSON(), nullable=False),
        sa.Column("surroundings", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "surroundings IS NULL OR surroundings IN ('done', 'helper', 'later')",
            name="ck_safety_plans_surroundings_choice",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_safety_plans_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_safety_plans"),
        sa.UniqueConstraint("user_id", name="uq_safety_plans_user_id"),
    )
    op.create_index("ix_safety_plans_created_at", "safety_plans", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_safety_plans_created_at", table_name="safety_plans")
    op.drop_table("safety_plans")
