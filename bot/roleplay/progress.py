"""How someone's practice is going: the last practices and how each habit is changing.

Pure functions over the practices the journal kept; ``actions/roleplay.py`` reads the journal
and says the messages. The words are in ``data/roleplay/texts.yml`` (``progress.*``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.dialogue.texts import TextBook

SCRIPT_SOURCE_PREFIX = "own_script:"
SESSIONS_SHOWN = 3
RECENT_SESSIONS = 3  # "lately" in the progress trend; everything older is "before"
STEADY_BAND = 0.10  # a change in the share of clear no's smaller than this is "about the same"
TREND_FEATURES = ("clear_no", "apology", "over_justification", "hedge", "hostile")


@dataclass(frozen=True)
class Practice:
    """One finished practice as the journal kept it (newest first in lists)."""

    when: datetime
    source: str
    difficulty: str
    replies: tuple[Mapping[str, bool], ...]


def script_id_of(source: str) -> int | None:
    """The boundary script's id of a practice of one's own script, else None."""
    if not source.startswith(SCRIPT_SOURCE_PREFIX):
        return None
    try:
        return int(source[len(SCRIPT_SOURCE_PREFIX) :].strip())
    except ValueError:
        return None


def feature_share(practices: Iterable[Practice], feature: str) -> tuple[int, int]:
    """(replies with ``feature``, all replies) across ``practices``."""
    replies = [r for p in practices for r in p.replies]
    return sum(1 for r in replies if r.get(feature)), len(replies)


def percent(count: int, total: int) -> str:
    return f"{round(100 * count / total)}%" if total else "0%"


def verdict(recent: list[Practice], earlier: list[Practice]) -> str:
    """``clearer``, ``steady`` or ``dip``: the share of clear no's lately against before."""
    now_count, now_total = feature_share(recent, "clear_no")
    before_count, before_total = feature_share(earlier, "clear_no")
    change = now_count / now_total - before_count / before_total
    if change >= STEADY_BAND:
        return "clearer"
    if change <= -STEADY_BAND:
        return "dip"
    return "steady"


def progress_messages(
    practices: list[Practice],
    texts: TextBook,
    titles: Mapping[str, str],
    levels: Mapping[str, str],
    script_titles: Mapping[int, str],
) -> list[str]:
    """The messages that answer "how is my practice going?" (``practices`` newest first, each
    with at least one reply; ``titles`` and ``levels`` name scenarios and difficulties)."""
    if not practices:
        return [texts.text("progress.none")]

    def session_line(practice: Practice) -> str:
        script_id = script_id_of(practice.source)
        if practice.source.startswith(SCRIPT_SOURCE_PREFIX):
            title = script_titles.get(script_id) if script_id is not None else None
            title = title or texts.text("script.own")
        else:
            title = titles.get(practice.source, practice.source)
        clear_no, replies = feature_share([practice], "clear_no")
        return texts.text(
            "progress.session_line",
            date=f"{practice.when.day} {practice.when:%b}",
            title=title,
            difficulty=levels.get(practice.difficulty, practice.difficulty),
            clear_no=clear_no,
            replies=replies,
        )

    messages = [
        texts.text(
            "progress.sessions",
            total=len(practices),
            sessions="\n".join(session_line(p) for p in practices[:SESSIONS_SHOWN]),
        )
    ]
    recent, earlier = practices[:RECENT_SESSIONS], practices[RECENT_SESSIONS:]
    if not earlier:
        lines = [
            texts.text(
                "progress.so_far_line",
                feature=texts.text(f"features.{feature}"),
                now=percent(*feature_share(recent, feature)),
            )
            for feature in TREND_FEATURES
        ]
        return [*messages, texts.text("progress.so_far", lines="\n".join(lines))]
    lines = [
        texts.text(
            "progress.trend_line",
            feature=texts.text(f"features.{feature}"),
            now=percent(*feature_share(recent, feature)),
            before=percent(*feature_share(earlier, feature)),
        )
        for feature in TREND_FEATURES
    ]
    trend = texts.text(
        "progress.trend", recent=len(recent), earlier=len(earlier), lines="\n".join(lines)
    )
    return [*messages, trend, texts.text(f"progress.verdict.{verdict(recent, earlier)}")]
