"""``python -m bot.journal``: upgrade, purge with its retention setting, stats without content,
and the operator's full export."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from bot.journal import repository as repo
from bot.journal.cli import RETENTION_ENV, main, parse_duration, retention_from_env
from bot.journal.db import session_scope
from bot.journal.exports import MAX_EXPORT_BYTES
from bot.journal.models import utcnow
from tests.commands import run_python
from tests.conftest import user_who_agreed

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12h", timedelta(hours=12)), ("30d", timedelta(days=30)), (" 90d ", timedelta(days=90))],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert parse_duration("2w") == timedelta(weeks=2)


@pytest.mark.parametrize("text", ["", "90", "0d", "-5d", "3m", "1.5d", "d"])
def test_parse_duration_refuses_unclear_ages(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_retention_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert retention_from_env() is None
    monkeypatch.setenv(RETENTION_ENV, "180")
    assert retention_from_env() == timedelta(days=180)
    monkeypatch.setenv(RETENTION_ENV, "0")
    with pytest.raises(ValueError):
        retention_from_env()


def test_module_entry_point_upgrades_and_reports(db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url}
    done = run_python("-m", "bot.journal", "upgrade", env=env, check=True)
    assert "journal schema at 0009" in done.stdout
    assert "Running upgrade 0001 -> 0002" in done.stderr


def _old_entry(url: str, sender_id: str, text: str) -> None:
    with session_scope(url) as session:
        user = user_who_agreed(session, "rest", sender_id)
        action = repo.add_committed_action(session, user, text)
        action.created_at = user.created_at = user.updated_at = utcnow() - timedelta(days=40)


def test_purge_without_age_or_setting_does_nothing_and_says_so(
    journal_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _old_entry(journal_url, "keeper", "kept forever")
    assert main(["--url", journal_url, "purge"]) == 0
    assert "nothing purged" in capsys.readouterr().out
    with session_scope(journal_url) as session:
        assert repo.table_counts(session)["committed_actions"] == 1


def test_purge_with_older_than(journal_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _old_entry(journal_url, "old", "an old step")
    assert main(["--url", journal_url, "purge", "--older-than", "90d"]) == 0
    assert "committed_actions    0" in capsys.readouterr().out
    assert main(["--url", journal_url, "purge", "--older-than", "30d"]) == 0
    out = capsys.readouterr().out
    assert "purged entries older than 30d" in out and "committed_actions    1" in out
    assert "an old step" not in out


def test_purge_uses_the_retention_setting(
    journal_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _old_entry(journal_url, "old", "an old step")
    monkeypatch.setenv(RETENTION_ENV, "30")
    assert main(["--url", journal_url, "purge"]) == 0
    assert "committed_actions    1" in capsys.readouterr().out


def test_purge_refuses_a_bad_age(journal_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", journal_url, "purge", "--older-than", "soon"]) == 2
    assert "not a duration" in capsys.readouterr().err


def test_stats_counts_rows_without_content(
    journal_url: str, capsys: pytest.CaptureFixture[str], save_tracker, conversation
) -> None:
    _old_entry(journal_url, "stats-sender", "a very private step")
    save_tracker("stats-sender", conversation("private words"))
    assert main(["--url", journal_url, "stats"]) == 0
    out = capsys.readouterr().out
    assert "schema revision 0009" in out
    assert "users                1" in out and "committed_actions    1" in out
    assert "events               7" in out
    for secret in ("a very private step", "private words", "stats-sender"):
        assert secret not in out


def test_stats_before_upgrade(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", db_url, "stats"]) == 0
    assert "run `python -m bot.journal upgrade`" in capsys.readouterr().out


def test_unreachable_database_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", "postgresql://postgres@127.0.0.1:1/x", "stats"]) == 1
    assert "cannot be used right now" in capsys.readouterr().err


def test_export_writes_everything_to_a_new_private_file(
    journal_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    save_tracker,
    conversation,
) -> None:
    _old_entry(journal_url, "rest:asks-for-all", "a step of mine")
    events = []
    for turn in range(250):  # longer than one capped export can carry
        events += conversation(f"turn {turn:03d} " + "words " * 150, start=1_700_000_000 + turn)
    save_tracker("rest:asks-for-all", events)
    out = tmp_path / "all.json"
    assert main(["--url", journal_url, "export", "rest:asks-for-all", "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    written = json.loads(out.read_text())
    assert written["size_limit"] == {"max_bytes": None, "complete": True}
    assert len(written["conversation_events"]) == 250 * 7
    assert written["committed_actions"][0]["text"] == "a step of mine"
    assert out.stat().st_size > MAX_EXPORT_BYTES
    printed = capsys.readouterr().out
    assert "1750 conversation events" in printed and "turn 000" not in printed

    assert main(["--url", journal_url, "export", "rest:asks-for-all", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["--url", journal_url, "export", "asks-for-all", "--out", str(out) + "2"]) == 2
    assert "not a sender id" in capsys.readouterr().err


def _report(url: str, sender_id: str, reply_id: str, note: str | None, days_ago: int) -> None:
    with session_scope(url) as session:
        user = repo.get_or_create_user(session, "rest", sender_id)
        report = repo.save_reply_report(
            session, user, channel="rest", reply_id=reply_id, note=note, consent=True
        )
        report.created_at = utcnow() - timedelta(days=days_ago)


def test_reports_lists_reported_replies_newest_first(
    journal_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(journal_url, "rest:old", "utter_greet@2026-01-01T09:00:00.000Z", None, days_ago=20)
    _report(
        journal_url,
        "rest:new",
        "utter_crisis_not_safe@2026-12-06T21:03:14.123Z",
        "It was a joke about pizza,\nnot a crisis",
        days_ago=1,
    )
    assert main(["--url", journal_url, "reports"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 reported replies in ")
    assert lines[1].split() == ["id", "date", "channel", "reply", "id", "note"]
    newest, oldest = lines[2], lines[3]
    assert newest.split()[0] == "2" and oldest.split()[0] == "1"
    assert "utter_crisis_not_safe@2026-12-06T21:03:14.123Z" in newest
    # One report is one line, its note on it (line breaks folded).
    assert newest.endswith("It was a joke about pizza, not a crisis")
    assert " rest " in newest and oldest.endswith(" -")
    day = (utcnow() - timedelta(days=1)).strftime("%Y-%m-%d")
    assert newest.split()[1] == day
    # No sender id or pseudonym is shown: the operator reviews replies, not people.
    assert "rest:new" not in "\n".join(lines)


def test_reports_since_a_date(journal_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _report(journal_url, "rest:old", "utter_greet@x", "old one", days_ago=20)
    _report(journal_url, "rest:new", "utter_menu@x", "new one", days_ago=1)
    since = (utcnow() - timedelta(days=5)).strftime("%Y-%m-%d")
    assert main(["--url", journal_url, "reports", "--since", since]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"1 reported replies since {since}")
    assert "new one" in out and "old one" not in out
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%d")
    assert main(["--url", journal_url, "reports", "--since", future]) == 0
    assert capsys.readouterr().out.startswith("0 reported replies since")


def test_reports_refuses_a_bad_date(journal_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", journal_url, "reports", "--since", "last week"]) == 2
    assert "not a date such as 2026-12-01" in capsys.readouterr().err


def test_reports_as_the_operator_runs_it(journal_url: str) -> None:
    _report(journal_url, "rest:someone", "utter_crisis_safe@x", "felt cold", days_ago=0)
    env = {**os.environ, "DATABASE_URL": journal_url}
    done = run_python("-m", "bot.journal", "reports", env=env, check=True)
    assert "1 reported replies" in done.stdout and "felt cold" in done.stdout
