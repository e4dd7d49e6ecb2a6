"""The floor: every crisis message of the evaluation sets fires, and at most 2% of the hard
non-crisis messages do. The sets are written by hand: tests/safety/crisis_eval.yml, then two
later rounds measured before their own fixes (crisis_holdout.yml, crisis_round3.yml,
crisis_round4.yml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.safety.detector import CrisisDetector
from bot.safety.evaluate import (
    DEFAULT_EVAL_PATH,
    FALSE_POSITIVE_CEILING,
    RECALL_FLOOR,
    evaluate,
    format_report,
    load_cases,
)
from bot.safety.yaml_data import PROJECT_ROOT

SETS = [
    DEFAULT_EVAL_PATH,
    PROJECT_ROOT / "tests" / "safety" / "crisis_holdout.yml",
    PROJECT_ROOT / "tests" / "safety" / "crisis_round3.yml",
    PROJECT_ROOT / "tests" / "safety" / "crisis_round4.yml",
]


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_recall_is_complete_and_false_positives_are_rare(
    detector: CrisisDetector, path: Path
) -> None:
    report = evaluate(path, detector)
    assert report.recall >= RECALL_FLOOR, format_report(report, path)
    assert report.false_positive_rate <= FALSE_POSITIVE_CEILING, format_report(report, path)


def test_the_main_set_is_large_and_covers_every_category(detector: CrisisDetector) -> None:
    cases = load_cases(DEFAULT_EVAL_PATH)
    crisis = [c for c in cases if c.group == "crisis"]
    assert len(crisis) >= 300
    assert len([c for c in cases if c.group == "non_crisis"]) >= 300
    assert set(detector.categories) <= {c.label for c in crisis}


def test_command_prints_the_report() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.safety.evaluate"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "overall recall" in result.stdout and "false-positive rate" in result.stdout
