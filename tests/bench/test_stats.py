"""Percentile maths of the benchmark, checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from bench.stats import cpu_and_wall, nearest_rank, percentile, ratio, summarize


def test_percentile_interpolates_between_closest_ranks() -> None:
    # Positions: (n - 1) * q / 100 -> 0.75 for q=25 over 4 values, between 10 and 20.
    assert percentile([10.0, 20.0, 30.0, 40.0], 25) == pytest.approx(17.5)
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == pytest.approx(25.0)


def test_percentile_ignores_input_order() -> None:
    assert percentile([40.0, 10.0, 30.0, 20.0], 50) == pytest.approx(25.0)


def test_percentile_ends_are_min_and_max() -> None:
    values = [3.0, 1.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 3.0


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.5], 99) == 7.5


def test_p99_of_a_hundred_values() -> None:
    # 0..99: position 98.01 -> 98 + 0.01 * (99 - 98).
    assert percentile([float(i) for i in range(100)], 99) == pytest.approx(98.01)


def test_nearest_rank_is_a_measured_value() -> None:
    # Positions: round(0.95 * 3) = 3 and round(0.5 * 3) = 2 (even rounding), over 4 values.
    assert nearest_rank([40.0, 10.0, 30.0, 20.0], 95) == 40.0
    assert nearest_rank([40.0, 10.0, 30.0, 20.0], 50) == 30.0
    assert nearest_rank([7.5], 99) == 7.5


def test_cpu_and_wall_on_one_line() -> None:
    line = cpu_and_wall([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], ".1f")
    assert line == "cpu p50 2.0  p95 3.0  p99 3.0 ms | wall p50 5.0  p95 6.0  p99 6.0"


@pytest.mark.parametrize("q", [-1, 100.5, math.nan])
def test_percentile_rejects_out_of_range(q: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], q)


def test_percentile_rejects_empty_input() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summarize_turns_seconds_into_milliseconds() -> None:
    summary = summarize([0.010, 0.020, 0.030, 0.040, 0.100])
    assert summary.count == 5
    assert summary.p50 == pytest.approx(30.0)
    assert summary.p95 == pytest.approx(88.0)  # position 3.8: 40 + 0.8 * 60
    assert summary.mean == pytest.approx(40.0)
    assert summary.max == pytest.approx(100.0)


def test_ratio_handles_missing_and_zero_baselines() -> None:
    assert ratio(30.0, 20.0) == pytest.approx(1.5)
    assert ratio(None, 20.0) is None
    assert ratio(30.0, None) is None
    assert ratio(30.0, 0.0) is None
