"""The project database: one setting, ``DATABASE_URL``, and the one way to open it.

The journal (``bot.journal.db``), Rasa's tracker store (``bot.journal.tracker_store``), the crisis
counter (``bot.safety.counter``), the Telegram update ledger and the deployment launcher all open
the database here. SQLite (``var/secure_base.db``) is the default, PostgreSQL is the same code
with another URL. Nothing connects at import time: engines are made on first use and cached per
URL.

A leaf module: it imports nothing of the project, so the leaf packages ``bot.safety`` and
``bot.journal`` may both use it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url

REPO_ROOT = Path(__file__).resolve().parents[1]
VAR_DIR = REPO_ROOT / "var"
DEFAULT_DB_PATH = VAR_DIR / "secure_base.db"
DATABASE_URL_ENV = "DATABASE_URL"

SQLITE_BUSY_TIMEOUT_S = 15
PG_CONNECT_TIMEOUT_S = 5

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class DatabaseUnavailable(Exception):
    """The database cannot be opened at all; the message holds no URL and no password."""


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``DATABASE_URL``, else ``var/secure_base.db``."""
    chosen = url or os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_DB_PATH}"
    # Heroku-style ``postgres://`` is refused by SQLAlchemy 1.4 (and by Rasa with it).
    if chosen.startswith("postgres://"):
        chosen = "postgresql://" + chosen[len("postgres://") :]
    return chosen


def shown_url(url: str | None = None) -> str:
    """The URL as it may be printed: the password replaced by ``***``."""
    return make_url(database_url(url)).render_as_string(hide_password=True)


def sqlite_path(parsed: URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database."""
    if parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
    # SQLite otherwise only marks deleted cells free, and an erased entry stays readable in the
    # file until the page happens to be reused. A per-connection setting: every engine sets it.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
    """WAL with synchronous=NORMAL: a commit survives the process being killed (kill -9); only
    a power cut or OS crash can take back the last commits (SQLite's documentation). WAL is a
    property of the file, so every other connection to the same file uses it too."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str | URL | None = None, *, wal: bool = False, **options: Any) -> Engine:
    """The one way the project opens ``DATABASE_URL`` (see ``database_url`` for ``None``).

    Every engine gets a connect timeout (PostgreSQL without one waits about two minutes for an
    unreachable host, holding whoever asked), ``pool_pre_ping`` (a restarted server leaves dead
    pooled connections), ``hide_parameters`` (SQLAlchemy puts bound values, user text and
    sender ids, into exception messages) and, on SQLite, ``secure_delete``. ``wal``: a SQLite
    file keeps one reused connection (SQLAlchemy 1.4 opens a file with NullPool, a new
    connection per query) and a write-ahead log, for Rasa's tracker store, which writes every
    turn. ``options`` are passed to ``create_engine``; ``connect_args`` are merged with ours.
    """
    parsed = make_url(database_url(url) if not isinstance(url, URL) else url)
    backend = parsed.get_backend_name()
    path = sqlite_path(parsed) if backend == "sqlite" else None
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseUnavailable(
                    f"cannot create the directory of the SQLite database ({error.strerror})"
                ) from None
        connect_args = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
    elif backend == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    connect_args.update(options.pop("connect_args", None) or {})
    kwargs: dict[str, Any] = {"future": True, "hide_parameters": True, "pool_pre_ping": True}
    if wal and path is not None:
        kwargs["poolclass"] = sa.pool.QueuePool
    kwargs.update(options)
    if connect_args:
        kwargs["connect_args"] = connect_args
    engine = sa.create_engine(parsed, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "connect", _secure_delete)
        if wal:
            event.listen(engine, "connect", _write_ahead_log)
    return engine


def _transactional_sqlite(engine: Engine, *, foreign_keys: bool) -> None:
    """Foreign keys on, and real transactions.

    pysqlite opens transactions lazily and never around DDL or SELECT, which makes migrations
    non-atomic. We take over (SQLAlchemy's documented recipe) and open every transaction with
    BEGIN IMMEDIATE: the Rasa server writes to the same file, and a deferred read-then-write
    transaction can hit SQLite's lock-upgrade deadlock, which fails at once instead of waiting.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def new_engine(url: str | None = None, *, foreign_keys: bool = True) -> Engine:
    """An engine for the project's own tables, not cached (``engine_for`` is, use that).

    On SQLite, foreign keys are enforced and every transaction begins IMMEDIATE. Migrations
    need ``foreign_keys=False`` (see ``bot.journal.db.upgrade``).
    """
    engine = make_engine(url)
    if engine.url.get_backend_name() == "sqlite":
        _transactional_sqlite(engine, foreign_keys=foreign_keys)
    return engine


def engine_for(url: str | None = None) -> Engine:
    """The cached engine for ``url`` (see ``database_url``); created on first use."""
    key = database_url(url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = new_engine(key)
            _engines[key] = engine
    return engine


def dispose_engines(url: str | None = None) -> None:
    """Close pooled connections (all engines, or the one for ``url``); tests and forks need it."""
    with _engines_lock:
        keys = [database_url(url)] if url else list(_engines)
        for key in keys:
            engine = _engines.pop(key, None)
            if engine is not None:
                engine.dispose()
