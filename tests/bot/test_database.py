"""The project's one database factory: what every engine gets, and who may import it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot import database
from bot.journal.tracker_store import ErasingSQLTrackerStore

BOT = Path(__file__).resolve().parents[2] / "bot"
LEAF_PACKAGES = ("safety", "journal")


def _project_imports(path: Path) -> set[str]:
    """The ``bot.*`` and ``actions.*`` modules a file imports (at any depth in the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found = [node.module]
            if node.module == "bot":  # from bot import x: x is the module
                found = [f"bot.{alias.name}" for alias in node.names]
        else:
            continue
        names.update(n for n in found if n.split(".")[0] in ("bot", "actions"))
    return names


def _is_leaf_module(name: str) -> bool:
    """A single-file module of ``bot/`` that imports nothing of the project but other leaf
    modules (``bot.encoder`` takes ``bot.once``, which imports nothing)."""
    parts = name.split(".")
    path = BOT / f"{parts[1]}.py"
    if len(parts) != 2 or not path.is_file():
        return False
    return all(_is_leaf_module(other) for other in _project_imports(path) if other != name)


def test_the_factory_module_imports_nothing_of_the_project() -> None:
    assert _project_imports(BOT / "database.py") == set()


@pytest.mark.parametrize("package", LEAF_PACKAGES)
def test_leaf_packages_import_only_themselves_and_leaf_modules(package: str) -> None:
    outside = {
        f"{path.relative_to(BOT.parent)}: {name}"
        for path in sorted((BOT / package).rglob("*.py"))
        for name in _project_imports(path)
        if not name.startswith(f"bot.{package}") and not _is_leaf_module(name)
    }
    assert outside == set()
    # The rule's reason to exist: the counter once reached into the journal for its engine.
    assert "bot.database" in _project_imports(BOT / "safety" / "counter.py")


def test_nothing_in_bot_imports_the_actions() -> None:
    found = {
        f"{path.relative_to(BOT.parent)}: {name}"
        for path in sorted(BOT.rglob("*.py"))
        for name in _project_imports(path)
        if name.split(".")[0] == "actions"
    }
    assert found == set()


def _pragma(engine: sa.engine.Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_every_sqlite_engine_overwrites_deleted_content(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'project.db'}"
    plain = database.make_engine(url)
    store = ErasingSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "project.db"))
    try:
        assert _pragma(plain, "secure_delete") == 1
        assert _pragma(database.engine_for(url), "secure_delete") == 1
        assert _pragma(database.engine_for(url), "foreign_keys") == 1
        assert _pragma(store.engine, "secure_delete") == 1
        assert _pragma(store.engine, "journal_mode") == "wal"
        assert isinstance(store.engine.pool, sa.pool.QueuePool)
        assert store.engine.pool._pre_ping
    finally:
        plain.dispose()
        store.engine.dispose()
        database.dispose_engines(url)


def test_no_message_shows_the_password(tmp_path: Path) -> None:
    url = "postgresql://someone:hunter2hunter2@127.0.0.1:1/x"
    assert "hunter2" not in database.shown_url(url)
    assert "someone" in database.shown_url(url)
    engine = database.make_engine(url)
    with pytest.raises(sa.exc.OperationalError) as caught:
        engine.connect()
    engine.dispose()
    assert "hunter2" not in str(caught.value)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(database.DatabaseUnavailable) as refused:
        database.make_engine(f"sqlite:///{blocker / 'x.db'}")
    assert str(blocker) not in str(refused.value)
