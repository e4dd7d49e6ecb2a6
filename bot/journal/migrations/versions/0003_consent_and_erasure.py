"""Consent as three states, the deployment's secret fingerprint, and one-time export downloads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

``users.journal_consent`` becomes nullable: NULL means "never asked", which 0002 could not tell
apart from "declined". Rows from 0002 hold false although nobody was ever asked, so they become
NULL: those users are asked once, and nothing is kept for them meanwhile.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.journal.migration_ops import create_table, timestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite copies and replaces ``users`` here; safe only with foreign keys off (db.upgrade).
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "journal_consent", existing_type=sa.Boolean(), nullable=True, server_default=None
        )
    op.execute("UPDATE users SET journal_consent = NULL")
    create_table(
        "deployment_keys",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("name", name="pk_deployment_keys"),
        indexes=("created_at",),
    )
    create_table(
        "pending_exports",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        timestamp("expires_at"),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("token_hash", name="pk_pending_exports"),
        indexes=("pseudonym", "expires_at", "created_at"),
    )


def downgrade() -> None:
    op.drop_table("pending_exports")
    op.drop_table("deployment_keys")
    op.execute("UPDATE users SET journal_consent = false WHERE journal_consent IS NULL")
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "journal_consent",
            existing_type=sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        )
