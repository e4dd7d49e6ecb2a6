"""What "show my progress" says: per skill a picture with its summary and alt text, or a kind
sentence when there is too little to draw (pure; the words are in ``data/progress/texts.yml``).

A picture travels as a ``data:image/png;base64,...`` URL (``Picture.data_url``): the web page's
Content-Security-Policy allows ``data:`` images, the Telegram channel uploads the bytes it holds
(``sendPhoto``), REST carries it as it is. No URL that could be fetched again is ever made.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.content import DATA_DIR
from bot.dialogue.texts import TextBook, plain, using
from bot.progress import charts
from bot.progress.history import (
    Pause,
    RoleplayWeek,
    ValueSeries,
    pauses_enough,
    values_enough,
    weeks_enough,
)

TEXTS_FILE = DATA_DIR / "progress" / "texts.yml"
SKILLS = ("values", "wise_mind", "roleplay")
# A change smaller than this is "about the same" (ratings out of 10; shares in percent points).
STEADY_POINTS = 0.5
STEADY_PERCENT = 10

_SUMMARIES = ("summary_up", "summary_same", "summary_down")
TEXT_SPEC = {
    **plain("intro", "none"),
    "values": {
        **plain("title", "y_label", "not_yet"),
        **using({"value", "first", "last", "first_date"}, *_SUMMARIES),
        "alt": frozenset({"sittings", "first_date", "last_date", "series"}),
        "alt_series": frozenset({"value", "ratings"}),
    },
    "wise_mind": {
        **plain("title", "y_label", "before", "after", "not_yet"),
        **using({"count", "average"}, *_SUMMARIES),
        "alt": frozenset({"count", "pauses"}),
        "alt_pause": frozenset({"date", "before", "after"}),
    },
    "roleplay": {
        **plain("title", "y_label", "not_yet"),
        **using({"first", "last", "first_week", "last_week"}, *_SUMMARIES),
        "alt": frozenset({"count", "weeks"}),
        "alt_week": frozenset({"week", "percent", "replies"}),
    },
    **plain("buttons.values", "buttons.wise_mind", "buttons.roleplay", "buttons.show"),
}


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The progress words, checked (placeholders, button lengths) when first read."""
    return TextBook.for_skill(TEXTS_FILE, TEXT_SPEC)


@dataclass(frozen=True)
class Picture:
    """One drawn picture with the line said beside it and its description for screen readers."""

    skill: str
    png: bytes
    summary: str
    alt: str

    @property
    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class History:
    """Everything the pictures are drawn from (``bot.progress.history``)."""

    values: Sequence[ValueSeries] = ()
    pauses: Sequence[Pause] = ()
    weeks: Sequence[RoleplayWeek] = ()

    def is_empty(self) -> bool:
        return not (self.values or self.pauses or self.weeks)


def _direction(change: float, steady: float) -> str:
    if change >= steady:
        return "summary_up"
    if change <= -steady:
        return "summary_down"
    return "summary_same"


def _labels(book: TextBook, skill: str, *extra: str) -> dict[str, str]:
    return {key: book.text(f"{skill}.{key}") for key in ("title", "y_label", *extra)}


def _each(book: TextBook, key: str, rows: Sequence[Mapping[str, object]]) -> str:
    """The sentence at ``key`` once per row of its fields, in one paragraph (an alt text's list)."""
    return " ".join(book.text(key, **row) for row in rows)


def values_picture(series: Sequence[ValueSeries], book: TextBook) -> Picture:
    changing = [s for s in series if len(s.points) >= 2]
    rising = [s for s in changing if s.points[-1][1] > s.points[0][1]]
    if rising:
        shown = max(rising, key=lambda s: (s.points[-1][1] - s.points[0][1], s.points[-1][0]))
    else:
        shown = max(changing, key=lambda s: s.points[-1][0])
    (first_when, first), (_, last) = shown.points[0], shown.points[-1]
    summary = book.text(
        f"values.{_direction(last - first, STEADY_POINTS)}",
        value=shown.value,
        first=first,
        last=last,
        first_date=charts.short_date(first_when),
    )
    sittings = sorted({when for s in series for when, _ in s.points})
    alt = book.text(
        "values.alt",
        sittings=len(sittings),
        first_date=charts.short_date(sittings[0]),
        last_date=charts.short_date(sittings[-1]),
        series=_each(
            book,
            "values.alt_series",
            [
                {"value": s.value, "ratings": ", ".join(str(lived) for _, lived in s.points)}
                for s in series
            ],
        ),
    )
    png = charts.values_chart(series, _labels(book, "values"))
    return Picture("values", png, summary, alt)


def wise_mind_picture(items: Sequence[Pause], book: TextBook) -> Picture:
    # Distress going down is the "easing" summary: the direction is that of the feeling.
    average = sum(p.before - p.after for p in items) / len(items)
    summary = book.text(
        f"wise_mind.{_direction(-average, STEADY_POINTS)}",
        count=len(items),
        average=f"{abs(average):.1f}",
    )
    alt = book.text(
        "wise_mind.alt",
        count=len(items),
        pauses=_each(
            book,
            "wise_mind.alt_pause",
            [
                {"date": charts.short_date(p.when), "before": p.before, "after": p.after}
                for p in items
            ],
        ),
    )
    png = charts.wise_mind_chart(items, _labels(book, "wise_mind", "before", "after"))
    return Picture("wise_mind", png, summary, alt)


def roleplay_picture(weeks: Sequence[RoleplayWeek], book: TextBook) -> Picture:
    first, last = weeks[0], weeks[-1]
    first_share, last_share = round(100 * first.share), round(100 * last.share)
    summary = book.text(
        f"roleplay.{_direction(last_share - first_share, STEADY_PERCENT)}",
        first=first_share,
        last=last_share,
        first_week=charts.short_date(first.week_start),
        last_week=charts.short_date(last.week_start),
    )
    alt = book.text(
        "roleplay.alt",
        count=len(weeks),
        weeks=_each(
            book,
            "roleplay.alt_week",
            [
                {
                    "week": charts.short_date(w.week_start),
                    "percent": round(100 * w.share),
                    "replies": w.replies,
                }
                for w in weeks
            ],
        ),
    )
    png = charts.roleplay_chart(weeks, _labels(book, "roleplay"))
    return Picture("roleplay", png, summary, alt)


def progress_items(history: History, book: TextBook | None = None) -> list[Picture | str]:
    """Per skill with anything kept: its picture, or (too little to draw) its kind sentence.
    Nothing kept at all: the one ``none`` sentence."""
    book = book or texts()
    if history.is_empty():
        return [book.text("none")]
    items: list[Picture | str] = []
    if history.values:
        if values_enough(list(history.values)):
            items.append(values_picture(history.values, book))
        else:
            items.append(book.text("values.not_yet"))
    if history.pauses:
        if pauses_enough(list(history.pauses)):
            items.append(wise_mind_picture(history.pauses, book))
        else:
            items.append(book.text("wise_mind.not_yet"))
    if history.weeks:
        if weeks_enough(list(history.weeks)):
            items.append(roleplay_picture(history.weeks, book))
        else:
            items.append(book.text("roleplay.not_yet"))
    return items
