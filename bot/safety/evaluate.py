"""Evaluate the crisis detector on the hand-written evaluation set.

``python -m bot.safety.evaluate`` prints recall per category, overall recall, the
false-positive rate and every miss and false positive. The set lives in
``tests/safety/crisis_eval.yml``; ``tests/safety/test_evaluation.py`` holds the floor
(recall 100%, false positives <= 2%).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety.detector import CrisisDetector, default_detector
from bot.safety.yaml_data import (
    PROJECT_ROOT,
    SafetyDataError,
    load_yaml,
    require_list,
    require_mapping,
    require_text,
)

DEFAULT_EVAL_PATH = PROJECT_ROOT / "tests" / "safety" / "crisis_eval.yml"
RECALL_FLOOR = 1.0
FALSE_POSITIVE_CEILING = 0.02


@dataclass(frozen=True)
class Case:
    group: str  # "crisis" or "non_crisis"
    label: str  # the crisis category or the kind of non-crisis message
    index: int
    text: str


@dataclass
class Outcome:
    case: Case
    fired: bool
    categories: tuple[str, ...]
    matched: tuple[str, ...]


@dataclass
class EvaluationReport:
    """Counts and the individual misses and false positives."""

    outcomes: list[Outcome] = field(default_factory=list)

    def _of(self, group: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.case.group == group]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self._of("crisis") if not o.fired]

    @property
    def false_positives(self) -> list[Outcome]:
        return [o for o in self._of("non_crisis") if o.fired]

    @property
    def recall(self) -> float:
        crisis = self._of("crisis")
        return (len(crisis) - len(self.misses)) / len(crisis) if crisis else 0.0

    @property
    def false_positive_rate(self) -> float:
        negatives = self._of("non_crisis")
        return len(self.false_positives) / len(negatives) if negatives else 0.0

    def by_label(self, group: str) -> dict[str, list[Outcome]]:
        labels: dict[str, list[Outcome]] = {}
        for outcome in self._of(group):
            labels.setdefault(outcome.case.label, []).append(outcome)
        return labels

    @property
    def passes(self) -> bool:
        return self.recall >= RECALL_FLOOR and self.false_positive_rate <= FALSE_POSITIVE_CEILING


def load_cases(path: Path = DEFAULT_EVAL_PATH) -> list[Case]:
    """Read the evaluation set (``crisis`` and ``non_crisis`` mappings of label -> texts)."""
    path = Path(path)
    data = require_mapping(load_yaml(path), path, "")
    cases = []
    for group in ("crisis", "non_crisis"):
        labels = require_mapping(data.get(group), path, group)
        for label, texts in labels.items():
            for index, text in enumerate(require_list(texts, path, f"{group}.{label}")):
                cases.append(
                    Case(group, label, index, require_text(text, path, f"{group}.{label}[{index}]"))
                )
    if not cases:
        raise SafetyDataError(path, "", "no cases")
    return cases


def evaluate(
    path: Path = DEFAULT_EVAL_PATH, detector: CrisisDetector | None = None
) -> EvaluationReport:
    """Run the detector over every case of the evaluation set."""
    detector = detector or default_detector()
    report = EvaluationReport()
    for case in load_cases(path):
        result = detector.detect(case.text)
        report.outcomes.append(Outcome(case, result.is_crisis, result.categories, result.matched))
    return report


def _short(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def format_report(report: EvaluationReport, path: Path) -> str:
    """The printed report: our own test data, so texts are shown to make misses actionable."""
    lines = [f"Crisis detector evaluation: {path}", ""]
    crisis = report.by_label("crisis")
    total = sum(len(v) for v in crisis.values())
    lines.append(f"Crisis messages: {total}")
    for label, outcomes in crisis.items():
        fired = sum(o.fired for o in outcomes)
        agree = sum(label in o.categories for o in outcomes)
        share = (
            f"{agree}/{len(outcomes)} carry this category" if label in _categories(report) else ""
        )
        lines.append(
            f"  {label:32} recall {fired:3}/{len(outcomes):<3} {100 * fired / len(outcomes):6.1f}%  {share}"
        )
    fired_total = total - len(report.misses)
    lines.append(
        f"  {'overall recall':32}        {fired_total:3}/{total:<3} {100 * report.recall:6.1f}%"
    )
    lines.append("")
    negatives = report.by_label("non_crisis")
    total_neg = sum(len(v) for v in negatives.values())
    lines.append(f"Non-crisis messages: {total_neg}")
    for label, outcomes in negatives.items():
        fired = sum(o.fired for o in outcomes)
        lines.append(f"  {label:32} fired  {fired:3}/{len(outcomes):<3}")
    lines.append(
        f"  {'false-positive rate':32}        {len(report.false_positives):3}/{total_neg:<3} "
        f"{100 * report.false_positive_rate:6.2f}%"
    )
    lines.append("")
    lines.append(f"Misses ({len(report.misses)}):")
    for o in report.misses:
        lines.append(f"  crisis.{o.case.label}[{o.case.index}]: {_short(o.case.text)}")
    lines.append(f"False positives ({len(report.false_positives)}):")
    for o in report.false_positives:
        lines.append(
            f"  non_crisis.{o.case.label}[{o.case.index}]: {_short(o.case.text)} -> {', '.join(o.matched)}"
        )
    lines.append("")
    lines.append(
        f"Floor: recall >= {100 * RECALL_FLOOR:.0f}%, false positives <= "
        f"{100 * FALSE_POSITIVE_CEILING:.0f}%: {'PASS' if report.passes else 'FAIL'}"
    )
    return "\n".join(lines)


def _categories(report: EvaluationReport) -> set[str]:
    return {c for o in report.outcomes for c in o.categories}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_EVAL_PATH, help="evaluation YAML")
    args = parser.parse_args(argv)
    report = evaluate(args.set)
    print(format_report(report, args.set))
    return 0 if report.passes else 1


if __name__ == "__main__":
    sys.exit(main())
