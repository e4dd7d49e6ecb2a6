"""Where the journal lives: one setting, ``DATABASE_URL``, shared with Rasa's SQL tracker store.

The engines come from ``bot.database`` (the project's one factory; SQLite is the default,
PostgreSQL is the same code with another URL). Nothing here connects at import time (rasa-sdk
imports every action module at start-up): engines are made on first use and cached per URL.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from bot import database
from bot.database import SQLITE_BUSY_TIMEOUT_S, database_url, sqlite_path
from bot.journal.errors import JournalUnavailable

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Our own version table, so that another Alembic setup in the same database cannot collide.
VERSION_TABLE = "journal_alembic_version"

# Part of the journal's API (bot.journal, deploy/, tests) as well.
DATABASE_URL_ENV = database.DATABASE_URL_ENV
dispose_engines = database.dispose_engines


@contextmanager
def _opening() -> Iterator[None]:
    try:
        yield
    except database.DatabaseUnavailable as error:
        raise JournalUnavailable(str(error)) from None


def engine_for(url: str | None = None) -> Engine:
    """The project's cached engine for ``url`` (``bot.database.engine_for``).

    Raises ``JournalUnavailable`` when a SQLite file's directory cannot be made.
    """
    with _opening():
        return database.engine_for(url)


SCRUB_ATTEMPTS = 10
SCRUB_PAUSE_S = 0.1
SCRUB_BUSY_MS = 100


def scrub_deleted(url: str | None = None) -> bool:
    """After an erasure: True once deleted content can no longer be read from the database files.

    SQLite in WAL mode keeps the pages as they were before the delete in the ``-wal`` file until
    a checkpoint copies the new (zeroed: ``secure_delete``, see ``bot.database``) pages into the database; TRUNCATE
    then empties the log. A reader in the middle of a transaction can hold the checkpoint back
    (``busy``), so it is tried for about two seconds and False is returned if it never completes.
    PostgreSQL: deleted rows are invisible to every query at once; their bytes stay in the table
    files until autovacuum reuses the space, which no database user can read. True there.
    """
    engine = engine_for(url)
    if engine.dialect.name != "sqlite":
        return True
    for _ in range(SCRUB_ATTEMPTS):
        # A raw DBAPI connection (autocommit, see bot.database.new_engine): a checkpoint cannot run
        # inside the BEGIN IMMEDIATE that SQLAlchemy's own connections open.
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            # The pool's busy timeout (15 s) would make each try wait that long on a reader;
            # short tries keep the whole wait near two seconds, then it is restored.
            cursor.execute(f"PRAGMA busy_timeout = {SCRUB_BUSY_MS}")
            try:
                row = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                busy, log_frames, _done = row
            finally:
                cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
                cursor.close()
        except sqlite3.Error as error:
            logger.warning("checkpoint after erasure failed (%s)", type(error).__name__)
            busy, log_frames = 1, None
        finally:
            raw.close()
        # log_frames is -1 when the database is not in WAL mode: nothing to copy back.
        if busy == 0 and log_frames in (0, -1):
            return True
        time.sleep(SCRUB_PAUSE_S)
    logger.warning("checkpoint after erasure did not complete; deleted pages remain in the WAL")
    return False


_UNREACHABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


def _is_missing_table(error: exc.DBAPIError) -> bool:
    if getattr(error.orig, "pgcode", None) == "42P01":  # PostgreSQL's undefined_table
        return True
    return "no such table" in str(error.orig)  # SQLite has no error codes for this


def _as_unavailable(error: BaseException) -> JournalUnavailable | None:
    """The ``JournalUnavailable`` that stands for ``error``, or None if it is another failure."""
    if isinstance(error, exc.OperationalError | exc.ProgrammingError) and _is_missing_table(error):
        return JournalUnavailable(
            "the journal tables are missing: run `python -m bot.journal upgrade`"
        )
    if not isinstance(error, _UNREACHABLE):
        return None
    # The class name only: driver messages can quote the statement that failed.
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    return JournalUnavailable(
        f"the journal database cannot be used right now ({type(cause).__name__})"
    )


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One session per action run: commit on success, roll back on error.

    Objects stay readable after the block (``expire_on_commit=False``). Connection failures
    surface as ``JournalUnavailable``; other errors pass through unchanged.
    """
    session = Session(engine_for(url), future=True, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException as error:
        try:
            session.rollback()
        except exc.SQLAlchemyError:
            logger.debug("rollback after a failed journal session also failed", exc_info=True)
        unavailable = _as_unavailable(error)
        if unavailable is not None:
            logger.warning("journal database unavailable: %s", unavailable)
            raise unavailable from error
        raise
    finally:
        session.close()


ERASING_TRACKER_STORE = "bot.journal.tracker_store.ErasingSQLTrackerStore"


def rasa_tracker_store_config(url: str | None = None, *, erasing: bool = False) -> dict[str, Any]:
    """The ``tracker_store`` section of endpoints.yml that points Rasa at our database.

    Keys are those ``SQLTrackerStore.__init__`` takes (``url`` becomes its ``host``). A SQLite
    path is made absolute: Rasa resolves a relative one against its own working directory.
    ``erasing`` selects our subclass that honours an in-conversation erasure.
    """
    store_type = ERASING_TRACKER_STORE if erasing else "SQL"
    parsed = make_url(database_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(parsed)
        if path is None:
            raise ValueError("an in-memory SQLite database cannot be shared with Rasa")
        return {"type": store_type, "dialect": "sqlite", "db": str(path.resolve())}
    if backend != "postgresql":
        raise ValueError(f"unsupported database backend for the tracker store: {backend}")
    # Rasa applies its PostgreSQL pool settings only when the dialect is exactly "postgresql".
    dialect = "postgresql" if parsed.get_driver_name() == "psycopg2" else parsed.drivername
    config: dict[str, Any] = {"type": store_type, "dialect": dialect, "db": parsed.database}
    optional = {
        "url": parsed.host,
        "port": parsed.port,
        "username": parsed.username,
        "password": parsed.password,
    }
    config.update({key: value for key, value in optional.items() if value is not None})
    if parsed.query:
        config["query"] = dict(parsed.query)
    return config


# Tables that share the database but belong to Rasa (SQLTrackerStore creates ``events``).
RASA_TABLES = frozenset({"events"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic filter: compare only what our models declare, never Rasa's tables."""
    if type_ == "table" and (name in RASA_TABLES or (reflected and compare_to is None)):
        return False
    return True


def alembic_config(connection: sa.engine.Connection | None = None) -> Any:
    """Alembic's configuration, built in code so that no working directory or ini is needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on the journal database (creates it when missing)."""
    from alembic import command

    key = database_url(url)
    sqlite = make_url(key).get_backend_name() == "sqlite"
    # SQLite alters most things by copying a table and dropping the old one; with foreign keys
    # on, that drop cascades and empties every child table. The pragma cannot change inside a
    # transaction, hence a private engine with them off, and SQLite's own check before commit.
    if sqlite:
        with _opening():
            engine = database.new_engine(key, foreign_keys=False)
    else:
        engine = engine_for(key)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("a journal migration broke foreign keys; nothing was changed")
    except exc.SQLAlchemyError as error:
        unavailable = _as_unavailable(error)
        if unavailable is None:
            raise
        raise unavailable from error
    finally:
        if sqlite:
            engine.dispose()
    logger.info("journal schema upgraded to %s", revision)


def current_revision(url: str | None = None) -> str | None:
    """The Alembic revision the database is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    except exc.SQLAlchemyError as error:
        unavailable = _as_unavailable(error)
        if unavailable is None:
            raise
        raise unavailable from error
