"""Percentiles and latency summaries: the maths the benchmark's verdicts rest on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks.

    Same definition as numpy's default (``method="linear"``), written out so the benchmark's
    figures do not depend on which numpy Rasa happens to pin.
    """
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100 or math.isnan(q):
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) as the nearest rank: always a time that was measured."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def cpu_and_wall(cpu: Sequence[float], wall: Sequence[float], spec: str) -> str:
    """p50, p95 and p99 of CPU and wall times (ms) on one line, each formatted by ``spec``."""

    def three(values: Sequence[float]) -> str:
        return "  ".join(f"p{q} {nearest_rank(values, q):{spec}}" for q in (50, 95, 99))

    return f"cpu {three(cpu)} ms | wall {three(wall)}"


@dataclass(frozen=True)
class LatencySummary:
    """Latency figures in milliseconds."""

    count: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float


def summarize(latencies_s: Sequence[float]) -> LatencySummary:
    """Summarise latencies given in seconds as milliseconds."""
    if not latencies_s:
        raise ValueError("no latencies to summarise")
    ms = [value * 1000 for value in latencies_s]
    return LatencySummary(
        count=len(ms),
        p50=percentile(ms, 50),
        p95=percentile(ms, 95),
        p99=percentile(ms, 99),
        mean=sum(ms) / len(ms),
        max=max(ms),
    )


def ratio(value: float | None, baseline: float | None) -> float | None:
    """``value / baseline``, or None when either is missing or the baseline is zero."""
    if value is None or baseline is None or baseline == 0:
        return None
    return value / baseline
