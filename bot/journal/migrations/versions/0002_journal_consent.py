"""Add users.journal_consent: keeping reflections needs the user's explicit yes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Existing users get false: nobody is assumed to have agreed. The server default makes the new
NOT NULL column valid for rows already there, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite this batch copies and replaces ``users``; that is safe only because
    # ``bot.journal.db.upgrade`` runs migrations with foreign keys off (else the drop cascades).
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("journal_consent", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("journal_consent")
