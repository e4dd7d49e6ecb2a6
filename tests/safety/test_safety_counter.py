"""Crisis counting: per day, region and channel, no text, never raising into the caller."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.journal import db
from bot.safety import counter
from tests.commands import run_python


def test_counts_add_up_per_day_region_and_channel(counts_db: str) -> None:
    day = date(2026, 3, 1)
    counter.record("US", "rest", day, url=counts_db)
    counter.record("US", "rest", day, url=counts_db)
    counter.record("gb", "Telegram", day, url=counts_db)
    counter.record("UK", "telegram", date(2026, 3, 2), url=counts_db)
    assert counter.read(counts_db) == [
        (day, "UK", "telegram", 1),
        (day, "US", "rest", 2),
        (date(2026, 3, 2), "UK", "telegram", 1),
    ]


def test_default_day_is_today_in_utc(counts_sqlite: str) -> None:
    counter.record("CA", "socketio", url=counts_sqlite)
    [(day, region, channel, count)] = counter.read(counts_sqlite)
    assert day == datetime.now(timezone.utc).date()
    assert (region, channel, count) == ("CA", "socketio", 1)


def test_only_codes_are_stored(counts_sqlite: str) -> None:
    counter.record("Narnia; DROP TABLE x", "web chat <script>", url=counts_sqlite)
    counter.record(None, None, url=counts_sqlite)  # type: ignore[arg-type]
    rows = counter.read(counts_sqlite)
    assert {(r[1], r[2]) for r in rows} == {("OTHER", "web_chat_script_"), ("UNSET", "unknown")}
    engine = sa.create_engine(counts_sqlite)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("crisis_counts")}
    engine.dispose()
    assert columns == {"day", "region", "channel", "count"}


def test_database_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'counts.db'}"
    monkeypatch.setenv(counter.DATABASE_URL_ENV, url)
    db.upgrade(url)
    counter.record("AU", "rest")
    assert [r[1:] for r in counter.read()] == [("AU", "rest", 1)]
    db.dispose_engines(url)


def test_the_counter_uses_the_journal_engine_with_its_timeouts(counts_sqlite: str) -> None:
    # One engine per database for the journal and the counter, from bot.database's factory.
    assert counter._engine(counts_sqlite) is db.engine_for(counts_sqlite)
    assert db.engine_for(counts_sqlite).pool._pre_ping


def test_the_counters_table_is_the_journals_model() -> None:
    # bot.safety may not import the journal, so the counter describes the table itself.
    from bot.journal.models import CrisisCount

    def shape(table: sa.Table) -> list[tuple[str, str, bool, bool]]:
        return [(c.name, repr(c.type), c.primary_key, c.nullable) for c in table.columns]

    assert shape(counter.crisis_counts()) == shape(CrisisCount.__table__)


def test_a_database_without_the_migration_is_not_written_behind_alembic(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        counter.record("US", "rest", url=sqlite_url)
    assert "could not count a crisis event" in caplog.text
    engine = sa.create_engine(sqlite_url)
    try:
        assert not sa.inspect(engine).has_table("crisis_counts")
    finally:
        engine.dispose()
        db.dispose_engines(sqlite_url)


def test_an_existing_crisis_counts_table_keeps_its_rows_through_the_migration(
    sqlite_url: str,
) -> None:
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as connection:  # what the counter created on its own before 0003
        connection.exec_driver_sql(
            "CREATE TABLE crisis_counts (day DATE NOT NULL, region VARCHAR(16) NOT NULL, "
            "channel VARCHAR(32) NOT NULL, count INTEGER NOT NULL, "
            "PRIMARY KEY (day, region, channel))"
        )
        connection.exec_driver_sql(
            "INSERT INTO crisis_counts VALUES ('2026-01-02', 'US', 'rest', 4)"
        )
    engine.dispose()
    db.upgrade(sqlite_url)
    assert counter.read(sqlite_url) == [(date(2026, 1, 2), "US", "rest", 4)]
    db.dispose_engines(sqlite_url)


def test_failures_never_reach_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    bad = "postgresql://nobody@127.0.0.1:1/none"
    with caplog.at_level(logging.WARNING):
        counter.record("US", "rest", url=bad)
        assert counter.read(bad) == []
    assert "could not count a crisis event" in caplog.text


def test_command_prints_the_counts(counts_sqlite: str) -> None:
    counter.record("IE", "telegram", date(2026, 5, 4), url=counts_sqlite)
    result = run_python("-m", "bot.safety.counter", "--url", counts_sqlite, check=True)
    assert "2026-05-04  IE      telegram" in result.stdout
    assert "total: 1" in result.stdout


def test_command_reports_an_unreachable_database() -> None:
    result = run_python("-m", "bot.safety.counter", "--url", "postgresql://x:secret@127.0.0.1:1/n")
    assert result.returncode == 1
    assert "OperationalError" in result.stdout and "secret" not in result.stdout
