"""The benchmark's table, target verdicts and the document it writes."""

from __future__ import annotations

from pathlib import Path

from bench.profiling import categorize, summarize_raw
from bench.report import (
    HAND_WRITTEN_MARKER,
    BotFigures,
    build_rows,
    evaluate_targets,
    format_table,
    format_targets,
    format_value,
    write_document,
)
from bench.stats import LatencySummary


def _summary(p50: float, p95: float) -> LatencySummary:
    return LatencySummary(count=100, p50=p50, p95=p95, p99=p95 * 1.2, mean=p50, max=p95 * 2)


def _mood() -> BotFigures:
    return BotFigures(
        "moodbot",
        sequential=_summary(22.0, 31.0),
        sequential_rate=40.0,
        c20=_summary(300.0, 415.0),
        c20_rate=55.0,
        startup_s=20.0,
        rasa_peak_mb=1150.0,
        train_s=45.0,
        model_mb=25.0,
    )


def _sb(**changes: object) -> BotFigures:
    figures = BotFigures(
        "Secure Base",
        sequential=_summary(25.0, 40.0),
        sequential_rate=35.0,
        c20=_summary(280.0, 400.0),
        c20_rate=60.0,
        startup_s=25.0,
        rasa_peak_mb=1200.0,
        actions_peak_mb=150.0,
    )
    for key, value in changes.items():
        setattr(figures, key, value)
    return figures


def _verdicts(targets) -> dict[str, str]:
    return {t.name: t.verdict for t in targets}


def test_all_targets_pass_when_secure_base_is_as_fast() -> None:
    verdicts = _verdicts(evaluate_targets(_mood(), [_sb()], detect_p99_ms=0.2))
    assert set(verdicts.values()) == {"PASS"}
    assert len(verdicts) == 7


def test_each_target_can_miss() -> None:
    slow = _sb(
        sequential=_summary(31.0, 50.0),
        c20=_summary(500.0, 700.0),
        c20_rate=40.0,
        startup_s=31.0,
        rasa_peak_mb=1400.0,
        actions_peak_mb=1301.0,
    )
    verdicts = _verdicts(evaluate_targets(_mood(), [slow], detect_p99_ms=1.5))
    assert set(verdicts.values()) == {"MISS"}


def test_a_missing_detector_is_not_a_pass() -> None:
    verdicts = _verdicts(evaluate_targets(_mood(), [_sb()], detect_p99_ms=None))
    assert verdicts["crisis detection p99 < 1 ms"] == "N/A "


def test_equal_p95_is_no_worse() -> None:
    same = _sb(c20=_summary(300.0, 415.0), c20_rate=55.0)
    verdicts = _verdicts(evaluate_targets(_mood(), [same], detect_p99_ms=0.1))
    assert verdicts["p95 at 20 concurrent <= moodbot's [Secure Base]"] == "PASS"
    assert verdicts["throughput at 20 concurrent >= moodbot's [Secure Base]"] == "PASS"


def test_target_lines_show_the_figures() -> None:
    text = format_targets(evaluate_targets(_mood(), [_sb()], detect_p99_ms=0.25))
    lines = text.splitlines()
    assert lines[0].startswith("PASS  p95 at 20 concurrent")
    assert "400 ms vs 415 ms, ratio 0.96x" in lines[0]
    assert "(0.250 ms)" in lines[-1]


def test_table_puts_ratios_next_to_each_candidate() -> None:
    columns = [_mood(), _sb()]
    table = format_table(columns, build_rows(columns))
    lines = table.splitlines()
    assert lines[0] == "| metric | moodbot | Secure Base | ratio |"
    assert lines[1] == "|---|---|---|---|"
    row = next(line for line in lines if line.startswith("| 20 concurrent p95 "))
    assert row == "| 20 concurrent p95 | 415 ms | 400 ms | 0.96x |"
    missing = next(line for line in lines if line.startswith("| 50 concurrent p50 "))
    assert missing == "| 50 concurrent p50 | - | - | - |"


def test_values_are_formatted_by_unit() -> None:
    assert format_value(7.25, "ms") == "7.2 ms"
    assert format_value(415.4, "ms") == "415 ms"
    assert format_value(55.04, "msg/s") == "55.0 msg/s"
    assert format_value(1149.6, "MB") == "1150 MB"
    assert format_value(None, "s") == "-"


def test_the_hand_written_part_survives_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "performance.md"
    write_document(path, "# first run\n")
    first = path.read_text()
    assert first.startswith("# first run\n")
    assert HAND_WRITTEN_MARKER in first
    path.write_text(first + "\nDIET dominates; shrink it.\n")
    write_document(path, "# second run\n")
    second = path.read_text()
    assert second.startswith("# second run\n")
    assert "# first run" not in second
    assert second.endswith("DIET dominates; shrink it.\n")


def test_profile_samples_are_attributed_to_the_pipeline_part() -> None:
    raw = (
        "main (rasa/__main__.py:1);handle (rasa/core/processor.py:10);"
        "process (rasa/nlu/selectors/response_selector.py:5);"
        "_predict (rasa/nlu/classifiers/diet_classifier.py:9) 30\n"
        "main (rasa/__main__.py:1);handle (rasa/core/processor.py:10);"
        "process (rasa/nlu/classifiers/diet_classifier.py:7) 50\n"
        "main (rasa/__main__.py:1);save (rasa/core/tracker_store.py:3) 20\n"
        "garbage line\n"
    )
    summary = summarize_raw(raw)
    assert summary.samples == 100
    assert dict(summary.categories) == {
        "DIETClassifier": 50,
        "ResponseSelector": 30,
        "tracker store": 20,
    }
    assert summary.top_self[0] == ("process (rasa/nlu/classifiers/diet_classifier.py)", 50)
    # The entry frame is in every sample and tells nothing: left out.
    assert all(not frame.startswith("main ") for frame, _ in summary.top_inclusive)


def test_unknown_stacks_are_other() -> None:
    assert categorize(["f (somewhere.py)"]) == "other"


def test_server_start_up_frames_do_not_claim_every_sample() -> None:
    idle_loop = [
        "<module> (bin/rasa)",
        "main (rasa/__main__.py)",
        "serve_application (rasa/core/run.py)",
        "serve (sanic/server/runners.py)",
    ]
    assert categorize(idle_loop) == "HTTP server and event loop"
    assert categorize([*idle_loop, "handle_message (rasa/core/processor.py)"]) == (
        "message processing (rasa/core)"
    )
