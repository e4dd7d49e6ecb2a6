"""Alembic environment of the journal; configured in code by ``bot.journal.db.alembic_config``.

``bot.journal.db.upgrade`` hands us an open connection (``config.attributes["connection"]``) so
that migrations run on the same engine settings as the app (SQLite foreign keys, real
transactions). Rasa's ``events`` table lives in the same database: autogenerate must never
propose to create, alter or drop it.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from bot.journal.db import VERSION_TABLE, database_url, engine_for, include_object
from bot.journal.models import Base


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        compare_type=True,
        **kwargs,
    )


def run_offline() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or database_url()
    _configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online(connection: Any) -> None:
    # SQLite can alter little in place: batch mode rebuilds a table when a change needs it.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
elif context.config.attributes.get("connection") is not None:
    run_online(context.config.attributes["connection"])
else:
    with engine_for(context.config.get_main_option("sqlalchemy.url")).begin() as connection:
        run_online(connection)
