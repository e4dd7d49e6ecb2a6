"""Operator commands: ``python -m bot.journal upgrade | purge | stats | export | reports``.

They print counts and revisions, never content, with two exceptions made for the operator's
duties: ``export`` writes one person's whole data to a new private file (a data request the
chat's capped export cannot fully serve), and ``reports`` lists the replies users reported for
review, with the note each one chose to add. ``DATABASE_URL`` (or ``--url``) picks the
database, as for the bot.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone

from bot import sender_ids
from bot.database import shown_url
from bot.journal import db, repository
from bot.journal.errors import JournalUnavailable
from bot.journal.exports import render

RETENTION_ENV = "SECURE_BASE_RETENTION_DAYS"
_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``12h``, ``90d`` or ``2w`` as a positive timedelta."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration such as 12h, 30d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def retention_from_env() -> timedelta | None:
    """``SECURE_BASE_RETENTION_DAYS`` as a timedelta; None (keep until deleted) when unset."""
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) == 0:
        raise ValueError(f"{RETENTION_ENV} must be a positive number of days, not {raw!r}")
    return timedelta(days=int(raw))


def _upgrade(args: argparse.Namespace) -> int:
    db.upgrade(args.url, args.revision)
    print(f"journal schema at {db.current_revision(args.url)} in {shown_url(args.url)}")
    return 0


def _purge(args: argparse.Namespace) -> int:
    try:
        older_than = parse_duration(args.older_than) if args.older_than else retention_from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if older_than is None:
        print(
            f"nothing purged: no --older-than given and {RETENTION_ENV} is unset, "
            "so entries are kept until the user deletes them"
        )
        return 0
    with db.session_scope(args.url) as session:
        counts = repository.purge(session, older_than)
    age = args.older_than or f"{older_than.days}d ({RETENTION_ENV})"
    print(f"purged entries older than {age} from {shown_url(args.url)}")
    for table, count in counts.items():
        print(f"{table:20} {count}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    revision = db.current_revision(args.url)
    print(f"database {shown_url(args.url)}, schema revision {revision or 'none'}")
    if revision is None:
        print("no journal tables yet: run `python -m bot.journal upgrade`")
        return 0
    with db.session_scope(args.url) as session:
        counts = repository.table_counts(session)
    for table, count in counts.items():
        print(f"{table:20} {count}")
    return 0


def _export(args: argparse.Namespace) -> int:
    channel = sender_ids.channel_of(args.sender_id)
    if channel is None:
        print(
            f"error: {args.sender_id!r} is not a sender id: use the export's sender_id, which "
            "starts with its channel (rest:, web:, tg:)",
            file=sys.stderr,
        )
        return 2
    with db.session_scope(args.url) as session:
        export = repository.export_user(session, channel, args.sender_id, max_bytes=None)
    body = render(export).encode("utf-8")
    try:
        # A new file only, readable by this user alone: it holds what that person wrote.
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"error: {args.out} exists; choose a new file", file=sys.stderr)
        return 2
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    print(
        f"wrote {len(body):,} bytes to {args.out}: the journal and "
        f"{len(export['conversation_events'])} conversation events, nothing left out"
    )
    return 0


def parse_day(text: str) -> datetime:
    """``2026-12-01`` as the start of that day in UTC (the journal's times are UTC)."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a date such as 2026-12-01") from None
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _one_line(text: str | None) -> str:
    # A note may hold line breaks; one report stays one line of the listing.
    return " ".join(text.split()) if text else "-"


def _reports(args: argparse.Namespace) -> int:
    try:
        since = parse_day(args.since) if args.since else None
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with db.session_scope(args.url) as session:
        rows = [
            (
                str(report.id),
                report.created_at.strftime("%Y-%m-%d %H:%M"),
                report.channel,
                report.reply_id,
                _one_line(report.note),
            )
            for report in repository.list_reply_reports(session, since)
        ]
    after = f" since {since:%Y-%m-%d}" if since else ""
    print(f"{len(rows)} reported replies{after} in {shown_url(args.url)}, newest first (UTC)")
    if rows:
        header = ("id", "date", "channel", "reply id", "note")
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
        for row in [header, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
            print("  ".join([*cells, row[4]]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line, kept separate so tests can check its help and choices."""
    parser = argparse.ArgumentParser(prog="python -m bot.journal", description=__doc__)
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or var/secure_base.db)")
    commands = parser.add_subparsers(dest="command", required=True)

    upgrade = commands.add_parser("upgrade", help="apply the journal's migrations")
    upgrade.add_argument("--revision", default="head", help="target revision (default: head)")
    upgrade.set_defaults(run=_upgrade)

    purge = commands.add_parser("purge", help="remove entries and conversation logs past retention")
    purge.add_argument(
        "--older-than",
        metavar="AGE",
        help=f"12h, 30d, 2w... (default: {RETENTION_ENV} days; unset keeps everything)",
    )
    purge.set_defaults(run=_purge)

    stats = commands.add_parser("stats", help="row counts per table, no content")
    stats.set_defaults(run=_stats)

    export = commands.add_parser(
        "export", help="one sender's whole data, with no size limit, into a new private file"
    )
    export.add_argument("sender_id", help="as in the user's export, e.g. web:3f2a... or tg:1234")
    export.add_argument("--out", required=True, metavar="FILE", help="a new file to write")
    export.set_defaults(run=_export)

    reports = commands.add_parser(
        "reports", help="replies users reported for review, newest first, with their notes"
    )
    reports.add_argument("--since", metavar="DATE", help="only reports from this day on (UTC)")
    reports.set_defaults(run=_reports)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit code 1 when the database cannot be reached, 2 on bad input."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Alembic announces each of its plugins at INFO; the migration steps are what matter.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        return args.run(args)
    except JournalUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
