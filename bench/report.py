"""The benchmark's table, its target verdicts and docs/performance.md.

Pure functions on measured figures, so the formatting and the verdicts can be tested without
running a server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.stats import LatencySummary, ratio

HAND_WRITTEN_MARKER = (
    "<!-- Everything below this line is written by hand and kept by bench/run.py. -->"
)
DEFAULT_HAND_WRITTEN = (
    "## Analysis and recommendations\n\n"
    "(Written by hand after reading a run: where the time goes and what would fix a MISS.)\n"
)

# The targets, on 2 cores.
SEQUENTIAL_P50_MS = 30.0
DETECT_P99_MS = 1.0
STARTUP_S = 30.0
RSS_MB = 1300.0


@dataclass
class BotFigures:
    """Everything measured for one bot set-up (a column of the table)."""

    label: str
    sequential: LatencySummary | None = None
    sequential_rate: float | None = None
    c20: LatencySummary | None = None
    c20_rate: float | None = None
    c50: LatencySummary | None = None
    c50_rate: float | None = None
    errors: int = 0
    empty_answers: int = 0
    startup_s: float | None = None
    rasa_rss_mb: float | None = None
    rasa_peak_mb: float | None = None
    actions_startup_s: float | None = None
    actions_rss_mb: float | None = None
    actions_peak_mb: float | None = None
    train_s: float | None = None
    model_mb: float | None = None


@dataclass(frozen=True)
class Row:
    """One metric across the columns."""

    metric: str
    unit: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Target:
    """One target's verdict: True (PASS), False (MISS) or None (cannot be measured yet)."""

    name: str
    passed: bool | None
    detail: str

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "N/A "}[self.passed]


def format_value(value: float | None, unit: str) -> str:
    """A figure with the precision its unit deserves; a dash when missing."""
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "msg/s":
        return f"{value:.1f} msg/s"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:g} {unit}".strip()


def format_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _latency(summary: LatencySummary | None, field: str) -> float | None:
    return None if summary is None else getattr(summary, field)


def build_rows(columns: Sequence[BotFigures]) -> list[Row]:
    """The table's rows, one metric each, values in column order."""

    def row(metric: str, unit: str, getter) -> Row:
        return Row(metric, unit, tuple(getter(figures) for figures in columns))

    rows = []
    for prefix, attr, rate in (
        ("sequential", "sequential", "sequential_rate"),
        ("20 concurrent", "c20", "c20_rate"),
        ("50 concurrent", "c50", "c50_rate"),
    ):
        for pct in ("p50", "p95", "p99"):
            rows.append(
                row(f"{prefix} {pct}", "ms", lambda f, a=attr, p=pct: _latency(getattr(f, a), p))
            )
        rows.append(row(f"{prefix} throughput", "msg/s", lambda f, r=rate: getattr(f, r)))
    rows += [
        row("messages timed", "count", lambda f: _count(f)),
        row("errors (non-200, timeouts)", "count", lambda f: float(f.errors)),
        row("start-up to first REST answer", "s", lambda f: f.startup_s),
        row("RSS Rasa server after load", "MB", lambda f: f.rasa_rss_mb),
        row("peak RSS Rasa server", "MB", lambda f: f.rasa_peak_mb),
        row("action server start-up", "s", lambda f: f.actions_startup_s),
        row("peak RSS action server", "MB", lambda f: f.actions_peak_mb),
        row("training time", "s", lambda f: f.train_s),
        row("model size", "MB", lambda f: f.model_mb),
    ]
    return rows


def _count(figures: BotFigures) -> float | None:
    counts = [s.count for s in (figures.sequential, figures.c20, figures.c50) if s is not None]
    return float(sum(counts)) if counts else None


def format_table(columns: Sequence[BotFigures], rows: Sequence[Row]) -> str:
    """A Markdown table: the first column is the baseline, every other one gets a ratio to it."""
    header = ["metric", columns[0].label]
    for figures in columns[1:]:
        header += [figures.label, "ratio"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for item in rows:
        cells = [item.metric, format_value(item.values[0], item.unit)]
        for value in item.values[1:]:
            cells += [format_value(value, item.unit), format_ratio(ratio(value, item.values[0]))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate_targets(
    baseline: BotFigures, candidates: Sequence[BotFigures], detect_p99_ms: float | None
) -> list[Target]:
    """PASS/MISS per target. Not assertions: the benchmark reports, people decide."""
    targets = []
    for sb in candidates:
        tag = f" [{sb.label}]"
        mood_p95, sb_p95 = _latency(baseline.c20, "p95"), _latency(sb.c20, "p95")
        targets.append(
            _compare(
                f"p95 at 20 concurrent <= moodbot's{tag}",
                sb_p95,
                mood_p95,
                "ms",
                lower_is_better=True,
            )
        )
        targets.append(
            _compare(
                f"throughput at 20 concurrent >= moodbot's{tag}",
                sb.c20_rate,
                baseline.c20_rate,
                "msg/s",
                lower_is_better=False,
            )
        )
        targets.append(
            _limit(
                f"sequential p50 < {SEQUENTIAL_P50_MS:g} ms{tag}",
                _latency(sb.sequential, "p50"),
                SEQUENTIAL_P50_MS,
                "ms",
            )
        )
        targets.append(_limit(f"start-up < {STARTUP_S:g} s{tag}", sb.startup_s, STARTUP_S, "s"))
        targets.append(
            _limit(f"peak RSS Rasa server < {RSS_MB:g} MB{tag}", sb.rasa_peak_mb, RSS_MB, "MB")
        )
    actions_peak = next((c.actions_peak_mb for c in candidates if c.actions_peak_mb), None)
    targets.append(_limit(f"peak RSS action server < {RSS_MB:g} MB", actions_peak, RSS_MB, "MB"))
    if detect_p99_ms is None:
        targets.append(
            Target(f"crisis detection p99 < {DETECT_P99_MS:g} ms", None, "not available yet")
        )
    else:
        targets.append(
            _limit(
                f"crisis detection p99 < {DETECT_P99_MS:g} ms",
                detect_p99_ms,
                DETECT_P99_MS,
                "ms",
                precision=3,
            )
        )
    return targets


def _compare(
    name: str, value: float | None, baseline: float | None, unit: str, *, lower_is_better: bool
) -> Target:
    if value is None or baseline is None:
        return Target(name, None, "not measured")
    passed = value <= baseline if lower_is_better else value >= baseline
    detail = (
        f"{format_value(value, unit)} vs {format_value(baseline, unit)}, "
        f"ratio {format_ratio(ratio(value, baseline))}"
    )
    return Target(name, passed, detail)


def _limit(name: str, value: float | None, limit: float, unit: str, precision: int = 1) -> Target:
    if value is None:
        return Target(name, None, "not measured")
    shown = f"{value:.{precision}f} {unit}" if precision != 1 else format_value(value, unit)
    return Target(name, value < limit, shown)


def format_targets(targets: Sequence[Target]) -> str:
    """One line per target: ``PASS  name  (detail)``."""
    width = max(len(t.name) for t in targets)
    return "\n".join(f"{t.verdict}  {t.name:<{width}}  ({t.detail})" for t in targets)


def hand_written_part(existing: str | None) -> str:
    """The hand-written tail of an existing document (from the marker on), or a fresh one."""
    if existing and HAND_WRITTEN_MARKER in existing:
        return existing[existing.index(HAND_WRITTEN_MARKER) :]
    return f"{HAND_WRITTEN_MARKER}\n\n{DEFAULT_HAND_WRITTEN}"


def write_document(path: Path, generated: str) -> None:
    """Write the generated part, keeping whatever was written by hand below the marker."""
    path = Path(path)
    existing = path.read_text(encoding="utf-8") if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generated.rstrip() + "\n\n" + hand_written_part(existing), encoding="utf-8")
