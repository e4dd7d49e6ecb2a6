"""Shared fixtures: real databases for tests (a temporary SQLite file, a throwaway PostgreSQL).

``db_url`` runs a test once on each backend. PostgreSQL is the server on 127.0.0.1:5432 (user
postgres, trust auth; ``SECURE_BASE_TEST_POSTGRES_URL`` points elsewhere): every test gets its
own database, dropped afterwards. When the server cannot be reached the test fails if ``CI`` is
set and is skipped, with the reason, otherwise.
"""

from __future__ import annotations

import os

# Before SQLAlchemy is first imported: it reads these when its modules load.
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

# `.venv/bin/pytest` does not put the working directory on sys.path (`python -m pytest` does):
# make `import bot`/`import actions` work either way, even without `pip install -e .`.
REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

# tests/actions and tests/exercises still import these two from here (tests/builders.py is the one
# tracker builder; `make_tracker` is its `sdk_tracker`).
from tests.builders import channel_sender_id  # noqa: E402, F401
from tests.builders import sdk_tracker as make_tracker  # noqa: E402, F401

# The markers (server, browser, postgres, redis, model) by fixture, and `make unit`'s guard.
pytest_plugins = ["tests.markers"]

POSTGRES_ADMIN_URL_ENV = "SECURE_BASE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def postgres_unreachable(reason: str) -> None:
    """A missing PostgreSQL is a failure in CI and a skip (with the reason) elsewhere."""
    if _in_ci():
        pytest.fail(f"PostgreSQL is required in CI but cannot be reached: {reason}")
    pytest.skip(f"PostgreSQL cannot be reached ({reason}); with CI=true this fails instead")


@pytest.fixture(scope="session")
def detector() -> Any:
    """The crisis detector over the reviewed pattern files (read-only: safe to share)."""
    from bot.safety.detector import CrisisDetector

    loaded = CrisisDetector()
    loaded.load()
    return loaded


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@contextmanager
def temporary_database(prefix: str = "sb_test") -> Iterator[str]:
    """A new, uniquely named PostgreSQL database, dropped (connections and all) afterwards."""
    admin_url = make_url(os.environ.get(POSTGRES_ADMIN_URL_ENV, DEFAULT_POSTGRES_ADMIN_URL))
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(
        admin_url,
        future=True,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        postgres_unreachable(str(error.orig).strip().splitlines()[0])
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE ends connections a test's engines may still hold in their pools.
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, uniquely named PostgreSQL database, dropped after the test."""
    with temporary_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once per backend (SQLite file, PostgreSQL)."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The one action server + Rasa server (REST and socket.io channels, SQLite) that the
    end-to-end tests share (a ``RasaStack``, tests/e2e/servers.py): started on first use, stopped
    at the end of the run. Tests keep apart by their own sender ids and sessions; a test that
    needs a server configured otherwise starts its own."""
    from bot.journal.db import dispose_engines
    from tests.e2e.chat import REST_CHANNEL, SOCKETIO_CHANNEL
    from tests.e2e.servers import RasaStack

    channels = {**REST_CHANNEL, **SOCKETIO_CHANNEL}
    with RasaStack(channels, tmp_path_factory.mktemp("shared-stack")) as running:
        yield running
    dispose_engines(running.database_url)


@pytest.fixture
def same_secret(shared_stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process computes pseudonyms (and seeds the journal) as the shared stack does."""
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", shared_stack.env["SECURE_BASE_ID_SECRET"])
    monkeypatch.setenv("DATABASE_URL", shared_stack.database_url)


@pytest.fixture
def journal_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A migrated journal in a temporary SQLite file, set as DATABASE_URL for code under test.

    For action tests: actions open ``session_scope()`` without a URL, so they find this one.
    """
    from bot.journal import db

    url = f"sqlite:///{tmp_path / 'journal.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", "action-tests-pseudonym-key-0123456789")
    db.upgrade(url)
    yield url
    db.dispose_engines(url)


@pytest.fixture
def notice_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "program, not a person" notice is not due (as for someone who saw it a minute ago).

    For channel tests about anything else, run in this process: they keep their exact message
    lists. The notice's own rules and its place in each turn are in tests/channels/test_ai_notice.py.
    """
    from bot.channels import ai_notice

    monkeypatch.setattr(ai_notice, "take_turn", lambda sender_id, at: False)


BrokenCopy = Callable[[Path, str, str], Path]


@pytest.fixture
def broken_copy(tmp_path: Path) -> BrokenCopy:
    """``broken_copy(source, old, new)``: a copy of the content file ``source`` in the test's
    folder with the first ``old`` replaced by ``new``; ``old`` must be there, so that the test
    breaks what it means to."""

    def copy(source: Path, old: str, new: str) -> Path:
        text = Path(source).read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {source}"
        broken = tmp_path / Path(source).name
        broken.write_text(text.replace(old, new, 1), encoding="utf-8")
        return broken

    return copy


def user_who_agreed(session: Any, channel: str, sender_id: str) -> Any:
    """A journal user who said yes to keeping their answers (the journal refuses writes before)."""
    from bot.journal import repository

    user = repository.get_or_create_user(session, channel, sender_id)
    return repository.set_consent(session, user, True)


def placeholder_script(session: Any, user: Any, priority: str = "relationship") -> Any:
    """A boundary script saved for a test that is about anything but its words."""
    from bot.journal import repository

    return repository.save_boundary_script(
        session,
        user,
        title="t",
        describe="d",
        express="e",
        assertion="a",
        reinforce="r",
        priority=priority,
    )


def agree_to_keeping(url: str, channel: str, *senders: str) -> None:
    """Record these senders' yes to keeping their answers, as ``action_set_journal_consent`` does."""
    from bot.journal import session_scope

    with session_scope(url) as session:
        for sender in senders:
            user_who_agreed(session, channel, sender)


def journal_kept_for(channel: str, sender: str) -> Any:
    """A ``journal_db`` for a module whose tests are about what is kept once ``sender`` said yes
    (tests/actions/test_consent.py covers the user who did not):
    ``journal_db = journal_kept_for(CHANNEL, SENDER)``."""

    @pytest.fixture
    def journal_db(journal_db: str) -> str:
        agree_to_keeping(journal_db, channel, sender)
        return journal_db

    return journal_db
