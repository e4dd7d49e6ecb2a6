"""Initial journal schema: users and their entries.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Written out rather than imported from the models (the repeated shapes come from the frozen
``bot.journal.migration_ops``): a migration must keep describing the schema of its own day when
the models move on. Rasa's ``events`` table is not created here.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.journal.migration_ops import create_table, drop_table, timestamp, user_fk, user_id

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _rating_check(table: str, column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} BETWEEN 0 AND 10", name=f"ck_{table}_{column}_range")


def upgrade() -> None:
    create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("pseudonym", name="uq_users_pseudonym"),
    )
    create_table(
        "value_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        user_fk("value_ratings"),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("life_area", sa.String(length=80), nullable=False),
        sa.Column("own_word", sa.Boolean(), nullable=False),
        sa.Column("importance", sa.SmallInteger(), nullable=False),
        sa.Column("consistency", sa.SmallInteger(), nullable=False),
        timestamp("created_at"),
        _rating_check("value_ratings", "importance"),
        _rating_check("value_ratings", "consistency"),
        sa.PrimaryKeyConstraint("id", name="pk_value_ratings"),
        indexes=("user_id", "created_at"),
    )
    create_table(
        "committed_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        user_fk("committed_actions"),
        sa.Column("value", sa.String(length=80), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        timestamp("done_at", nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_committed_actions"),
        indexes=("user_id", "created_at"),
    )
    create_table(
        "wise_mind_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        user_fk("wise_mind_entries"),
        sa.Column("practice", sa.String(length=80), nullable=False),
        sa.Column("distress_before", sa.SmallInteger(), nullable=False),
        sa.Column("distress_after", sa.SmallInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        timestamp("created_at"),
        _rating_check("wise_mind_entries", "distress_before"),
        _rating_check("wise_mind_entries", "distress_after"),
        sa.PrimaryKeyConstraint("id", name="pk_wise_mind_entries"),
        indexes=("user_id", "created_at"),
    )
    create_table(
        "boundary_scripts",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        user_fk("boundary_scripts"),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("describe", sa.Text(), nullable=False),
        sa.Column("express", sa.Text(), nullable=False),
        sa.Column("assertion", sa.Text(), nullable=False),
        sa.Column("reinforce", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.CheckConstraint(
            "priority IN ('relationship', 'self_respect')",
            name="ck_boundary_scripts_priority_kind",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_boundary_scripts"),
        indexes=("user_id", "created_at"),
    )
    create_table(
        "reflection_results",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        user_fk("reflection_results"),
        sa.Column("scores", sa.JSON(), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_reflection_results"),
        indexes=("user_id", "created_at"),
    )
    create_table(
        "roleplay_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        user_id(),
        user_fk("roleplay_sessions"),
        sa.Column("scenario_id", sa.String(length=80), nullable=False),
        sa.Column("difficulty", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=80), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_roleplay_sessions"),
        indexes=("user_id", "created_at"),
    )
    create_table(
        "roleplay_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("features", sa.JSON(), nullable=True),
        timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["roleplay_sessions.id"],
            name="fk_roleplay_replies_session_id_roleplay_sessions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_roleplay_replies"),
        indexes=("session_id", "created_at"),
    )


def downgrade() -> None:
    # Children first; dropping a table drops its indexes. Never touches Rasa's ``events``.
    for table in (
        "roleplay_replies",
        "roleplay_sessions",
        "reflection_results",
        "boundary_scripts",
        "wise_mind_entries",
        "committed_actions",
        "value_ratings",
        "users",
    ):
        drop_table(table)
