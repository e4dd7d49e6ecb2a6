"""Configuration, engines and sessions: defaults, SQLite settings, failures, Rasa's settings."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import database
from bot.journal import db
from bot.journal import repository as repo
from bot.journal.errors import JournalUnavailable
from bot.journal.models import User
from tests.conftest import user_who_agreed

UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/x"


def test_default_url_is_var_db_under_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.DATABASE_URL_ENV)
    root = Path(__file__).resolve().parents[2]
    assert db.database_url() == f"sqlite:///{root / 'var' / 'secure_base.db'}"
    assert database.DEFAULT_DB_PATH == root / "var" / "secure_base.db"


def test_url_precedence_and_postgres_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.DATABASE_URL_ENV, "postgresql://env@host/db")
    assert db.database_url() == "postgresql://env@host/db"
    assert db.database_url("sqlite:////tmp/arg.db") == "sqlite:////tmp/arg.db"
    assert db.database_url("postgres://u@h/d") == "postgresql://u@h/d"


def test_importing_the_journal_connects_to_nothing(tmp_path: Path) -> None:
    target = tmp_path / "never.db"
    code = (
        "import bot.journal, bot.journal.repository, bot.journal.cli, bot.journal.models\n"
        "from bot import database\n"
        "assert database._engines == {}, database._engines\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{target}"}
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)
    assert not target.exists()


def test_engine_is_cached_per_url(tmp_path: Path) -> None:
    first = db.engine_for(f"sqlite:///{tmp_path / 'a.db'}")
    assert db.engine_for(f"sqlite:///{tmp_path / 'a.db'}") is first
    assert db.engine_for(f"sqlite:///{tmp_path / 'b.db'}") is not first
    db.dispose_engines(f"sqlite:///{tmp_path / 'a.db'}")
    assert db.engine_for(f"sqlite:///{tmp_path / 'a.db'}") is not first


def test_sqlite_creates_its_directory_and_enforces_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'journal.db'}"
    db.upgrade(url)
    assert (tmp_path / "nested" / "dir" / "journal.db").exists()
    with db.engine_for(url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(url) as session:
        session.execute(
            sa.text(
                "INSERT INTO committed_actions (user_id, text, done, created_at) "
                "VALUES (12345, 'orphan', 0, '2026-01-01 00:00:00')"
            )
        )


def test_sqlite_session_works_from_another_thread(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    db.upgrade(url)
    engine = db.engine_for(url)
    with engine.connect() as connection:  # a connection made here, reused there via the pool
        connection.exec_driver_sql("SELECT 1")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with db.session_scope(url) as session:
                user_who_agreed(session, "rest", "threaded")
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []


def test_session_scope_commits_and_rolls_back(journal_url: str) -> None:
    with db.session_scope(journal_url) as session:
        user_who_agreed(session, "rest", "kept")
    with pytest.raises(RuntimeError), db.session_scope(journal_url) as session:
        user_who_agreed(session, "rest", "rolled-back")
        raise RuntimeError("the action failed half-way")
    with db.session_scope(journal_url) as session:
        assert repo.find_user(session, "rest", "kept") is not None
        assert repo.find_user(session, "rest", "rolled-back") is None


def test_unreachable_postgres_raises_journal_unavailable() -> None:
    with pytest.raises(JournalUnavailable) as caught, db.session_scope(UNREACHABLE_POSTGRES) as s:
        user_who_agreed(s, "rest", "someone")
    assert "cannot be used right now" in str(caught.value)
    with pytest.raises(JournalUnavailable):
        db.upgrade(UNREACHABLE_POSTGRES)
    with pytest.raises(JournalUnavailable):
        db.current_revision(UNREACHABLE_POSTGRES)


def test_unusable_sqlite_path_raises_journal_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(JournalUnavailable), db.session_scope(f"sqlite:///{blocker / 'x.db'}"):
        pass


def test_database_without_schema_raises_journal_unavailable(db_url: str) -> None:
    with pytest.raises(JournalUnavailable, match="python -m bot.journal upgrade"):
        with db.session_scope(db_url) as session:
            session.execute(sa.select(User)).all()


def test_other_database_errors_are_not_disguised(journal_url: str) -> None:
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(journal_url) as session:
        session.add(User(pseudonym=None))
        session.flush()


def test_tracker_store_config_for_sqlite_is_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert db.rasa_tracker_store_config("sqlite:///rel/journal.db") == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": str(tmp_path / "rel" / "journal.db"),
    }
    with pytest.raises(ValueError, match="in-memory"):
        db.rasa_tracker_store_config("sqlite://")


def test_tracker_store_config_for_postgres_splits_the_url() -> None:
    url = "postgresql://bot:s3cret@db.example:6543/secure_base?sslmode=require"
    assert db.rasa_tracker_store_config(url) == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.example",
        "port": 6543,
        "db": "secure_base",
        "username": "bot",
        "password": "s3cret",
        "query": {"sslmode": "require"},
    }


def _rasa_engine_url(endpoint: dict) -> str:
    from rasa.core.tracker_store import create_tracker_store
    from rasa.utils.endpoints import EndpointConfig

    store = create_tracker_store(EndpointConfig.from_dict(endpoint))
    try:
        with store.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return store.engine.url.render_as_string(hide_password=False)
    finally:
        store.engine.dispose()


def test_rasa_tracker_store_opens_our_database(journal_url: str) -> None:
    """Both forms handed to the lead: the split keys, and one ``url: ${DATABASE_URL}``."""
    ours = db.engine_for(journal_url).url
    split = sa.engine.make_url(_rasa_engine_url(db.rasa_tracker_store_config(journal_url)))
    assert (split.get_backend_name(), split.database) == (ours.get_backend_name(), ours.database)
    assert (split.host, split.port) == (ours.host, ours.port)


def test_endpoints_yml_with_database_url_substitution(
    journal_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: SQL\n  url: ${DATABASE_URL}\n", encoding="utf-8")
    monkeypatch.setenv(db.DATABASE_URL_ENV, journal_url)
    config = read_endpoint_config(str(endpoints), "tracker_store")
    assert config.url == journal_url

    rasa_url = _rasa_engine_url({"type": config.type, "url": config.url, **config.kwargs})
    assert rasa_url == journal_url
