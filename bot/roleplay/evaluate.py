"""Score the assessor on hand-labelled replies: ``python -m bot.roleplay.evaluate [FILE ...]``.

Prints per-label precision, recall and F1, the macro-F1 and per-feature accuracy for each set,
the tuning sets (``data/roleplay/training/``, ``tests/roleplay/replies*.yml``: the rules were
tuned and the learned layer trained on them) apart from the blind rounds
(``tests/roleplay/blind/``, ``blind: true``: written by someone who never saw the assessor and
scored once when they came in; their headers keep that first score). Then the cross-validated
figures the training run stored with the learned layer. ``--errors`` lists the replies it gets
wrong; ``--rules-only`` leaves the learned layer out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.roleplay.assessor import FEATURES, LABELS, assess, get_assessor
from bot.roleplay.content import CONTENT_DIR, PROJECT_ROOT, ContentError, Reader, read_yaml

TRAINING_DIR = CONTENT_DIR / "training"
TESTS_DIR = PROJECT_ROOT / "tests" / "roleplay"
BLIND_DIR = TESTS_DIR / "blind"
DEFAULT_SET = TRAINING_DIR / "corpus.yml"


@dataclass(frozen=True)
class LabelledReply:
    text: str
    request: str | None
    label: str
    features: dict[str, bool]  # only the features this set labels (older sets: the first six)
    scenario: str | None = None


@dataclass(frozen=True)
class Report:
    per_label: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    feature_accuracy: dict[str, float]
    errors: list[tuple[LabelledReply, str]]
    total: int


def request_context(scenario_id: str, line: str) -> str:
    """The ask of a shipped scenario followed by the persona's line (the line alone if unknown)."""
    from bot.roleplay.scenarios import scenarios

    scenario = scenarios().get(scenario_id)
    if scenario is None or scenario.opening == line:
        return line
    return f"{scenario.opening} {line}"


def load_labelled(path: Path = DEFAULT_SET) -> list[LabelledReply]:
    """Read a labelled set: a label and feature booleans for every reply.

    The request a reply answers is ``request`` (a key of ``requests`` or the text itself) or
    ``line`` (the persona's line, as the corpus and the blind rounds give it). Sets written
    before issue 16 label the first six features only: every reply of a set must label the
    same features, at least those six.
    """
    root = Reader(path, read_yaml(path))
    requests = {}
    req_reader = root.child("requests", required=False)
    if req_reader is not None:
        for key in req_reader.mapping():
            requests[str(key)] = req_reader.child(key).text()
    out = []
    labelled: set[str] | None = None
    for item in root.child("replies").items(1):
        text = item.child("text").text()
        request = None
        req = item.child("request", required=False) or item.child("line", required=False)
        if req is not None:
            name = req.text()
            request = requests.get(name, name)
        scenario = item.child("scenario", required=False)
        if scenario is not None and request is not None:
            # The engine reads a reply against the ask and the persona's latest line.
            request = request_context(scenario.text(), request)
        label = item.child("label").choice(LABELS)
        feats = item.child("features")
        extra = set(feats.mapping()) - set(FEATURES)
        if extra:
            raise ContentError(path, f"{feats.key}.{sorted(extra)[0]}", "is not a feature")
        names = [name for name in FEATURES if name in feats.mapping()]
        if labelled is None:
            labelled = set(names)
        missing = sorted((labelled | set(FEATURES[:6])) - set(names))
        if missing:
            raise ContentError(path, f"{feats.key}.{missing[0]}", "is missing")
        values = {}
        for name in names:
            value = feats.child(name).data
            if not isinstance(value, bool):
                raise ContentError(path, f"{feats.key}.{name}", "must be true or false")
            values[name] = value
        out.append(
            LabelledReply(text, request, label, values, scenario.text() if scenario else None)
        )
    return out


def score(
    replies: Sequence[LabelledReply],
    labels: Sequence[str],
    features: Sequence[dict[str, bool]] | None = None,
) -> Report:
    """Compare predicted labels (and features, if given) with the labelled ones."""
    pairs = list(zip(replies, labels, strict=True))
    per_label = {}
    for label in LABELS:
        tp = sum(1 for r, p in pairs if r.label == label == p)
        fp = sum(1 for r, p in pairs if p == label != r.label)
        fn = sum(1 for r, p in pairs if r.label == label != p)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = (precision, recall, f1, tp + fn)
    macro = sum(v[2] for v in per_label.values()) / len(LABELS)
    feature_accuracy = {}
    if features is not None:
        for name in FEATURES:
            scored = [(r, f) for r, f in zip(replies, features, strict=True) if name in r.features]
            if scored:
                right = sum(1 for r, f in scored if r.features[name] == f[name])
                feature_accuracy[name] = right / len(scored)
    errors = [(r, p) for r, p in pairs if r.label != p]
    return Report(per_label, macro, feature_accuracy, errors, len(replies))


def evaluate(replies: Sequence[LabelledReply], *, rules_only: bool = False) -> Report:
    """Run the assessor over every reply and compare with the labels."""
    if rules_only:
        rules = get_assessor()
        predictions = [rules.assess_rules(r.text, r.request) for r in replies]
    else:
        predictions = [assess(r.text, r.request) for r in replies]
    return score(replies, [p.label for p in predictions], [p.features for p in predictions])


def report_to_dict(report: Report) -> dict[str, Any]:
    """A JSON-able form (no texts): what the training step stores beside the weights."""
    return {
        "total": report.total,
        "macro_f1": report.macro_f1,
        "per_label": {k: list(v) for k, v in report.per_label.items()},
        "feature_accuracy": dict(report.feature_accuracy),
    }


def report_from_dict(data: dict[str, Any]) -> Report:
    table = data["per_label"]
    per_label = {k: (table[k][0], table[k][1], table[k][2], int(table[k][3])) for k in LABELS}
    accuracy = data["feature_accuracy"]
    features = {name: accuracy[name] for name in FEATURES if name in accuracy}
    return Report(per_label, data["macro_f1"], features, [], data["total"])


def format_report(report: Report, show_errors: bool = False) -> str:
    lines = [f"{report.total} labelled replies", ""]
    lines.append(f"{'label':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, (p, r, f1, n) in report.per_label.items():
        lines.append(f"{label:<12}{p:>10.3f}{r:>10.3f}{f1:>10.3f}{n:>10d}")
    lines.append(f"macro-F1: {report.macro_f1:.3f}")
    if report.feature_accuracy:
        lines.append("")
        lines.append("feature accuracy")
        for name, acc in report.feature_accuracy.items():
            lines.append(f"  {name:<22}{acc:.3f}")
    if show_errors and report.errors:
        lines.append("")
        lines.append(f"{len(report.errors)} wrong labels (expected -> got):")
        for reply, got in report.errors:
            lines.append(f"  {reply.label} -> {got}: {reply.text}")
    return "\n".join(lines)


def is_blind(path: Path) -> bool:
    data = read_yaml(path)
    return isinstance(data, dict) and bool(data.get("blind"))


def default_sets() -> tuple[list[Path], list[Path]]:
    """(tuning sets, blind rounds): every labelled set the project keeps."""
    files = [*sorted(TRAINING_DIR.glob("*.yml")), *sorted(TESTS_DIR.glob("replies*.yml"))]
    blind = sorted(BLIND_DIR.glob("*.yml"))
    return [f for f in files if not is_blind(f)], blind


def _title(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _cross_validated_lines() -> list[str]:
    from bot.roleplay.learned import LAYER_PATH, RoleplayLayer

    try:
        report = RoleplayLayer.load(LAYER_PATH).report
    except (FileNotFoundError, OSError, KeyError, ValueError) as exc:
        return [f"(no learned layer: {exc})"]
    if not report:
        return ["(the learned layer carries no cross-validated figures)"]
    lines = [
        f"{report['examples']} training replies, {report['folds']} folds; the layer overrules "
        f"the rules at confidences at most {report['budget']:.0%} of other labels reach "
        f"(thresholds {', '.join(f'{k} {v:.2f}' for k, v in report['thresholds'].items())})",
    ]
    for key, title in (
        ("rules_alone", "the rules alone (tuned on these sets)"),
        ("layer_alone", "the learned layer alone, out of fold"),
        ("rules_and_layer", "rules + the layer out of fold (the rules were tuned on these sets)"),
    ):
        lines += ["", f"-- {title}", format_report(report_from_dict(report[key]))]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="labelled sets (default: all)")
    parser.add_argument("--errors", action="store_true", help="list the mislabelled replies")
    parser.add_argument("--rules-only", action="store_true", help="leave the learned layer out")
    args = parser.parse_args(argv)
    if args.files:
        # A set named on the command line may be a new round that is not marked yet.
        tuned = [f for f in args.files if not is_blind(f)]
        blind = [f for f in args.files if is_blind(f)]
        first = "SETS NAMED ON THE COMMAND LINE"
    else:
        tuned, blind = default_sets()
        first = "TUNING SETS"
    out: list[str] = []
    blind_heading = "BLIND ROUNDS (a folded round's later figures are tuning figures: its header"
    blind_heading += " keeps the blind first score)"
    for heading, paths in ((first, tuned), (blind_heading, blind)):
        if not paths:
            continue
        out += [f"===== {heading} =====", ""]
        for path in paths:
            report = evaluate(load_labelled(path), rules_only=args.rules_only)
            out += [f"== {_title(path)}", format_report(report, args.errors), ""]
    if not args.files and not args.rules_only:
        out += ["===== CROSS-VALIDATED (from the training run) =====", ""]
        out += _cross_validated_lines()
    print("\n".join(out).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
