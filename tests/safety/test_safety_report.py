"""The referral report: counts per month and region from the crisis counter, on a real database,
dates checked, and nothing but months, region codes and numbers in what it prints."""

from __future__ import annotations

import re
import subprocess
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from bot.journal import db
from bot.safety import counter, report, resources
from tests.commands import run_python

REGIONS = {*resources.regions(), report.UNSET}
# Every line the report may print: nothing else can carry a word from the table.
ALLOWED_TEXT_LINE = re.compile(
    r"Crisis referrals counted from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}, per month and region:"
    r"|month +region +referrals"
    rf"|\d{{4}}-\d{{2}} +({'|'.join(sorted(REGIONS))}) +\d+"
    r"|total: \d+"
    r"|No crisis referrals were counted from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}\."
)
ALLOWED_CSV_LINE = re.compile(
    rf"month,region,referrals|\d{{4}}-\d{{2}},({'|'.join(sorted(REGIONS))}),\d+"
)


def _fill(url: str) -> None:
    for day, region, channel in [
        (date(2025, 12, 31), "US", "rest"),  # the day before the range
        (date(2026, 1, 1), "US", "socketio"),  # the first day
        (date(2026, 1, 15), "US", "telegram"),
        (date(2026, 1, 15), "US", "telegram"),
        (date(2026, 1, 20), "UK", "socketio"),
        (date(2026, 3, 31), "OTHER", "rest"),  # the last day
        (date(2026, 4, 1), "AU", "rest"),  # the day after
    ]:
        counter.record(region, channel, day, url=url)


def _report(url: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = report.main(["--url", url, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _report_command(
    url: str, first: str, last: str, *args: str, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m bot.safety.report`` over ``url`` from ``first`` to ``last``, in a new process."""
    return run_python(
        "-m", "bot.safety.report", "--url", url, "--from", first, "--to", last, *args, check=check
    )


def test_referrals_per_month_and_region_in_the_range(
    counts_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(counts_db)
    code, out, err = _report(counts_db, "--from", "2026-01-01", "--to", "2026-03-31", capsys=capsys)
    assert code == 0 and err == ""
    assert out == (
        "Crisis referrals counted from 2026-01-01 to 2026-03-31, per month and region:\n"
        "month    region  referrals\n"
        "2026-01  UK              1\n"
        "2026-01  US              3\n"
        "2026-03  OTHER           1\n"
        "total: 5\n"
    )


def test_csv_for_the_yearly_report(counts_sqlite: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(counts_sqlite)
    code, out, _ = _report(
        counts_sqlite,
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "csv",
        capsys=capsys,
    )
    assert code == 0
    assert out == (
        "month,region,referrals\n2026-01,UK,1\n2026-01,US,3\n2026-03,OTHER,1\n2026-04,AU,1\n"
    )


def test_an_empty_range_says_so(counts_sqlite: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(counts_sqlite)
    code, out, err = _report(
        counts_sqlite, "--from", "2026-02-01", "--to", "2026-02-28", capsys=capsys
    )
    assert code == 0 and err == ""
    assert out == "No crisis referrals were counted from 2026-02-01 to 2026-02-28.\n"
    # CSV stays a file with its header only; the note goes to stderr.
    code, out, err = _report(
        counts_sqlite,
        "--from",
        "2026-02-01",
        "--to",
        "2026-02-28",
        "--format",
        "csv",
        capsys=capsys,
    )
    assert (code, out) == (0, "month,region,referrals\n")
    assert err == "No crisis referrals were counted from 2026-02-01 to 2026-02-28.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-13-01", "--to", "2026-12-31"],
            "argument --from: '2026-13-01' is not a date: write it as YYYY-MM-DD",
        ),
        (
            ["--from", "2026-01-01", "--to", "31/12/2026"],
            "argument --to: '31/12/2026' is not a date: write it as YYYY-MM-DD",
        ),
        (["--from", "2026-01-01", "--to", "yesterday"], "argument --to: 'yesterday' is not a date"),
        (
            ["--from", "2026-05-01", "--to", "2026-04-01"],
            "--from 2026-05-01 is after --to 2026-04-01",
        ),
        (["--from", "2026-01-01"], "the following arguments are required: --to"),
    ],
)
def test_dates_are_checked_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        report.main(args)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_no_identifier_can_appear(counts_sqlite: str) -> None:
    """Rows written behind the counter's back, with names, ids and text where codes belong."""
    planted = [
        ("2026-02-03", "alice@example.com", "tg:123456789", 2),
        ("2026-02-03", "web:9f8e7d6c", "I want to die", 1),
        ("2026-02-04", "Bob Smith", "rest:bob", 4),
        ("2026-02-05", "gb", "socketio", 1),  # an alias: reported as its region
        ("2026-02-06", "UNSET", "unknown", 1),
        ("2026-02-07", "", "", 1),
    ]
    engine = sa.create_engine(counts_sqlite)
    with engine.begin() as connection:
        for row in planted:
            connection.execute(
                sa.text(
                    "INSERT INTO crisis_counts (day, region, channel, count) VALUES (:d, :r, :c, :n)"
                ),
                dict(zip("drcn", row, strict=True)),
            )
    engine.dispose()

    text = _report_command(counts_sqlite, "2026-02-01", "2026-02-28", check=True).stdout
    csv_text = _report_command(
        counts_sqlite, "2026-02-01", "2026-02-28", "--format", "csv", check=True
    ).stdout
    for line in text.splitlines():
        assert ALLOWED_TEXT_LINE.fullmatch(line), line
    for line in csv_text.splitlines():
        assert ALLOWED_CSV_LINE.fullmatch(line), line
    for output in (text, csv_text):
        for word in (
            "alice",
            "example",
            "123456789",
            "9f8e7d6c",
            "die",
            "Bob",
            "bob",
            "tg",
            "web",
            "rest",
            "socketio",
        ):
            assert word not in output
    # Nothing was dropped on the way: the unknown codes count as OTHER, the alias as UK.
    assert csv_text.splitlines()[1:] == ["2026-02,OTHER,7", "2026-02,UK,1", "2026-02,UNSET,2"]
    assert "total: 10" in text


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
            st.text(max_size=20),
            st.text(max_size=20),
            st.integers(min_value=0, max_value=10**6),
        ),
        max_size=20,
    )
)
def test_any_stored_row_reports_as_a_month_a_region_code_and_a_number(rows: list) -> None:
    lines = report.monthly(rows)
    assert sum(total for _, _, total in lines) == sum(row[3] for row in rows)
    for month, region, _total in lines:
        assert re.fullmatch(r"\d{4}-\d{2}", month) and region in REGIONS
    for line in report.format_text(lines, date(2000, 1, 1), date(2100, 12, 31)).splitlines():
        assert ALLOWED_TEXT_LINE.fullmatch(line), line


def test_an_unreachable_database_is_reported_without_its_password() -> None:
    result = _report_command("postgresql://x:secret@127.0.0.1:1/n", "2026-01-01", "2026-12-31")
    assert result.returncode == 1 and result.stdout == ""
    assert "could not read crisis_counts" in result.stderr and "OperationalError" in result.stderr
    assert "secret" not in result.stderr


def test_a_database_without_the_table_says_how_to_create_it(sqlite_url: str) -> None:
    result = _report_command(sqlite_url, "2026-01-01", "2026-12-31")
    assert result.returncode == 1
    assert "python -m bot.journal upgrade" in result.stderr
    db.dispose_engines(sqlite_url)
