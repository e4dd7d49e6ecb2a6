"""Crisis referral counts per month and region, for an operator's yearly report.

California's SB 243 asks operators, from July 2027, to report each year how many times they
referred users to crisis services, with no personal data. Here a referral is a crisis event the
fail-safe counted (``bot.safety.counter``: the table ``crisis_counts`` holds a day, a region code,
a channel name and a number, nothing else); this command adds them up per month (UTC) and region
between two days, both included:

    python -m bot.safety.report --from 2026-01-01 --to 2026-12-31 [--format csv] [--url URL]

The output holds months, region codes and numbers only. Channels are summed over, and a region
code the crisis lines file does not know is reported as its fallback (``OTHER``), as the counter
itself records one: no stray value in the table can reach the report.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections import Counter
from collections.abc import Iterable
from datetime import date

from bot.safety import counter, resources

UNSET = "UNSET"  # what the counter records when no region was given


def parse_day(text: str) -> date:
    """A day written YYYY-MM-DD; argparse shows the message of the error."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write it as YYYY-MM-DD, for example 2026-01-31"
        ) from None


def report_region(code: str) -> str:
    """The region code a report shows for a stored code: a known region, ``OTHER`` or ``UNSET``."""
    cleaned = code.strip().upper() if isinstance(code, str) else ""
    if not cleaned or cleaned == UNSET:
        return UNSET
    return resources.resolve_region(cleaned)


def monthly(rows: Iterable[tuple[date, str, str, int]]) -> list[tuple[str, str, int]]:
    """(month, region, referrals) from the counter's (day, region, channel, count) rows."""
    totals: Counter[tuple[str, str]] = Counter()
    for day, region, _channel, count in rows:
        totals[(f"{day.year:04d}-{day.month:02d}", report_region(region))] += int(count)
    return [(month, region, total) for (month, region), total in sorted(totals.items())]


def format_text(lines: list[tuple[str, str, int]], since: date, until: date) -> str:
    span = f"from {since.isoformat()} to {until.isoformat()}"
    if not lines:
        return f"No crisis referrals were counted {span}.\n"
    out = [
        f"Crisis referrals counted {span}, per month and region:",
        f"{'month':7}  {'region':6}  referrals",
    ]
    out += [f"{month:7}  {region:6}  {total:9d}" for month, region, total in lines]
    out.append(f"total: {sum(total for _, _, total in lines)}")
    return "\n".join(out) + "\n"


def format_csv(lines: list[tuple[str, str, int]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["month", "region", "referrals"])
    writer.writerows(lines)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.safety.report",
        description="Print the crisis referral counts per month and region (counts only).",
    )
    parser.add_argument(
        "--from", dest="since", required=True, type=parse_day, help="first day, YYYY-MM-DD"
    )
    parser.add_argument(
        "--to", dest="until", required=True, type=parse_day, help="last day, YYYY-MM-DD (included)"
    )
    parser.add_argument("--format", choices=("text", "csv"), default="text")
    parser.add_argument(
        "--url", default=None, help=f"database URL (default: ${counter.DATABASE_URL_ENV})"
    )
    args = parser.parse_args(argv)
    if args.since > args.until:
        parser.error(
            f"--from {args.since.isoformat()} is after --to {args.until.isoformat()}: "
            "the first day comes first"
        )
    from bot.database import database_url, shown_url

    url = database_url(args.url)
    try:
        rows = counter.read_counts(url, since=args.since, until=args.until)
    except Exception as exc:
        print(
            f"could not read {counter.TABLE_NAME} from {shown_url(url)}: {type(exc).__name__} "
            "(has the database been created? python -m bot.journal upgrade)",
            file=sys.stderr,
        )
        return 1
    lines = monthly(rows)
    if args.format == "csv":
        sys.stdout.write(format_csv(lines))
        if not lines:
            print(format_text(lines, args.since, args.until), end="", file=sys.stderr)
    else:
        sys.stdout.write(format_text(lines, args.since, args.until))
    return 0


if __name__ == "__main__":
    sys.exit(main())
