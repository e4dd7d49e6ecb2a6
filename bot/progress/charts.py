"""The progress pictures as PNG bytes: matplotlib's Agg canvas, no pyplot and no global state.

Each call builds its own ``Figure`` and draws it on a ``FigureCanvasAgg``, so concurrent action
runs share nothing and nothing is left behind. matplotlib is imported on first use, not when the
action server imports the actions. The pictures are 640x400 pixels, with large type, colours
from the Okabe-Ito palette (told apart with red-green colour blindness) and a different marker
and line style per series, so no colour has to be seen to read them.

Every word on a picture comes from the caller (``Labels``, from ``data/progress/texts.yml``).
An empty or one-point history is refused (``ValueError``): the caller says a kind sentence
instead of sending an empty chart.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from bot.progress.history import (
    Pause,
    RoleplayWeek,
    ValueSeries,
    pauses_enough,
    values_enough,
    weeks_enough,
)

WIDTH_PX, HEIGHT_PX, DPI = 640, 400, 100
FONT_SIZE = 13
# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
LINE_STYLES = ("-", "--", "-.", ":", "-", "--", "-.")
BEFORE_COLOUR, AFTER_COLOUR, BAR_COLOUR = PALETTE[1], PALETTE[0], PALETTE[0]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The words a picture carries: "title", "y_label", and per chart "before"/"after" (wise mind).
Labels = Mapping[str, str]


def short_date(day: date | datetime) -> str:
    """A short date ("3 Nov"), small enough for an axis under a phone-sized picture."""
    return f"{day.day} {day:%b}"


def _figure() -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.tick_params(labelsize=FONT_SIZE - 1)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def _png(figure: Any, axes: Any, labels: Labels) -> bytes:
    axes.set_title(labels["title"], fontsize=FONT_SIZE + 2, loc="left", pad=12)
    axes.set_ylabel(labels["y_label"], fontsize=FONT_SIZE)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No "Software" stamp: the file says nothing but the picture.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _date_ticks(axes: Any, days: Sequence[date | datetime]) -> None:
    positions = list(range(len(days)))
    axes.set_xticks(positions)
    names = [short_date(day) for day in days]
    axes.set_xticklabels(names, fontsize=FONT_SIZE - 1, rotation=30 if len(names) > 6 else 0)
    axes.set_xlim(-0.5, len(days) - 0.5)


def _rating_scale(axes: Any) -> None:
    """The 0-10 axis of a rating, and the legend of the series drawn on it."""
    axes.set_ylim(-0.3, 10.3)
    axes.set_yticks(range(0, 11, 2))
    axes.legend(fontsize=FONT_SIZE - 1, frameon=False, loc="best")


def values_chart(series: Sequence[ValueSeries], labels: Labels) -> bytes:
    """How much each value was lived (0-10) at each sitting: one line per value."""
    if not values_enough(list(series)):
        raise ValueError("a values picture needs a value rated at two sittings or more")
    sittings = sorted({when for s in series for when, _ in s.points})
    index = {when: position for position, when in enumerate(sittings)}
    figure, axes = _figure()
    for number, one in enumerate(series):
        style = number % len(PALETTE)
        axes.plot(
            [index[when] for when, _ in one.points],
            [lived for _, lived in one.points],
            color=PALETTE[style],
            marker=MARKERS[style],
            linestyle=LINE_STYLES[style],
            linewidth=2.5,
            markersize=8,
            label=one.value,
        )
    _date_ticks(axes, sittings)
    _rating_scale(axes)
    return _png(figure, axes, labels)


def wise_mind_chart(items: Sequence[Pause], labels: Labels) -> bytes:
    """Distress before and after each pause (0-10): two markers joined by an arrow."""
    if not pauses_enough(list(items)):
        raise ValueError("a wise-mind picture needs two pauses or more")
    figure, axes = _figure()
    positions = range(len(items))
    for position, pause in zip(positions, items, strict=True):
        if pause.before != pause.after:
            axes.annotate(
                "",
                xy=(position, pause.after),
                xytext=(position, pause.before),
                arrowprops={"arrowstyle": "-|>", "color": "#555555", "linewidth": 1.5},
            )
    for ratings, marker, colour, label in (
        ([p.before for p in items], "o", BEFORE_COLOUR, labels["before"]),
        ([p.after for p in items], "s", AFTER_COLOUR, labels["after"]),
    ):
        axes.scatter(positions, ratings, s=90, marker=marker, color=colour, label=label, zorder=3)
    _date_ticks(axes, [p.when for p in items])
    _rating_scale(axes)
    return _png(figure, axes, labels)


def roleplay_chart(weeks: Sequence[RoleplayWeek], labels: Labels) -> bytes:
    """The share of assertive replies in each week of practice, as bars (0-100 %)."""
    if not weeks_enough(list(weeks)):
        raise ValueError("a role-play picture needs two weeks of practice or more")
    figure, axes = _figure()
    positions = range(len(weeks))
    shares = [round(100 * week.share) for week in weeks]
    bars = axes.bar(positions, shares, color=BAR_COLOUR, width=0.6)
    for bar, share in zip(bars, shares, strict=True):
        axes.annotate(
            f"{share}%",
            xy=(bar.get_x() + bar.get_width() / 2, share),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            fontsize=FONT_SIZE - 1,
        )
    _date_ticks(axes, [week.week_start for week in weeks])
    axes.set_ylim(0, 110)
    axes.set_yticks(range(0, 101, 25))
    axes.set_yticklabels([f"{tick}%" for tick in range(0, 101, 25)])
    return _png(figure, axes, labels)
