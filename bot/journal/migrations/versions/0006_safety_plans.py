"""safety_plans: the user's own safety plan (issue 18), one row per user.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.journal.migration_ops import create_table, drop_table, timestamp, user_fk, user_id

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(
        "safety_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        sa.Column("warning_signs", sa.JSON(), nullable=False),
        sa.Column("coping", sa.JSON(), nullable=False),
        sa.Column("social", sa.JSON(), nullable=False),
        sa.Column("helpers", sa.JSON(), nullable=False),
        sa.Column("professionals", sa.JSON(), nullable=False),
        sa.Column("surroundings", sa.String(16), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.CheckConstraint(
            "surroundings IS NULL OR surroundings IN ('done', 'helper', 'later')",
            name="ck_safety_plans_surroundings_choice",
        ),
        user_fk("safety_plans"),
        sa.PrimaryKeyConstraint("id", name="pk_safety_plans"),
        sa.UniqueConstraint("user_id", name="uq_safety_plans_user_id"),
        indexes=("created_at",),
    )


def downgrade() -> None:
    drop_table("safety_plans", indexes=("created_at",))
