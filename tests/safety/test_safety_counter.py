"""Crisis counting: per day, region and channel, no text, never raising into the caller."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.safety import counter
from bot.safety.yaml_data import PROJECT_ROOT


def test_counts_add_up_per_day_region_and_channel(db_url: str) -> None:
    day = date(2026, 3, 1)
    counter.record("US", "rest", day, url=db_url)
    counter.record("US", "rest", day, url=db_url)
    counter.record("gb", "Telegram", day, url=db_url)
    counter.record("UK", "telegram", date(2026, 3, 2), url=db_url)
    assert counter.read(db_url) == [
        (day, "UK", "telegram", 1),
        (day, "US", "rest", 2),
        (date(2026, 3, 2), "UK", "telegram", 1),
    ]


def test_default_day_is_today_in_utc(sqlite_url: str) -> None:
    counter.record("CA", "socketio", url=sqlite_url)
    [(day, region, channel, count)] = counter.read(sqlite_url)
    assert day == datetime.now(timezone.utc).date()
    assert (region, channel, count) == ("CA", "socketio", 1)


def test_only_codes_are_stored(sqlite_url: str) -> None:
    counter.record("Narnia; DROP TABLE x", "web chat <script>", url=sqlite_url)
    counter.record(None, None, url=sqlite_url)  # type: ignore[arg-type]
    rows = counter.read(sqlite_url)
    assert {(r[1], r[2]) for r in rows} == {("OTHER", "web_chat_script_"), ("UNSET", "unknown")}
    engine = sa.create_engine(sqlite_url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("crisis_counts")}
    engine.dispose()
    assert columns == {"day", "region", "channel", "count"}


def test_database_url_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'counts.db'}"
    monkeypatch.setenv(counter.DATABASE_URL_ENV, url)
    counter.record("AU", "rest")
    assert (tmp_path / "nested" / "dir" / "counts.db").exists()
    assert [r[1:] for r in counter.read()] == [("AU", "rest", 1)]


def test_failures_never_reach_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    bad = "postgresql://nobody@127.0.0.1:1/none"
    with caplog.at_level(logging.WARNING):
        counter.record("US", "rest", url=bad)
        assert counter.read(bad) == []
    assert "could not count a crisis event" in caplog.text


def test_command_prints_the_counts(sqlite_url: str) -> None:
    counter.record("IE", "telegram", date(2026, 5, 4), url=sqlite_url)
    result = subprocess.run(
        [sys.executable, "-m", "bot.safety.counter", "--url", sqlite_url],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "2026-05-04  IE      telegram" in result.stdout
    assert "total: 1" in result.stdout


def test_command_reports_an_unreachable_database() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.safety.counter",
            "--url",
            "postgresql://x:secret@127.0.0.1:1/n",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "OperationalError" in result.stdout and "secret" not in result.stdout
