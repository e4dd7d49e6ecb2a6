"""Score the assessor against a hand-labelled set: ``python -m bot.roleplay.evaluate [FILE]``.

Prints per-label precision, recall and F1, the macro-F1, and per-feature accuracy. The default
set is ``tests/roleplay/replies.yml``; ``--errors`` lists the replies it gets wrong.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.roleplay.assessor import FEATURES, LABELS, assess
from bot.roleplay.content import PROJECT_ROOT, ContentError, Reader, read_yaml

DEFAULT_SET = PROJECT_ROOT / "tests" / "roleplay" / "replies.yml"


@dataclass(frozen=True)
class LabelledReply:
    text: str
    request: str | None
    label: str
    features: dict[str, bool]


@dataclass(frozen=True)
class Report:
    per_label: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    macro_f1: float
    feature_accuracy: dict[str, float]
    errors: list[tuple[LabelledReply, str]]
    total: int


def load_labelled(path: Path = DEFAULT_SET) -> list[LabelledReply]:
    """Read a labelled set; every reply needs a label and all six feature booleans."""
    root = Reader(path, read_yaml(path))
    requests = {}
    req_reader = root.child("requests", required=False)
    if req_reader is not None:
        for key in req_reader.mapping():
            requests[str(key)] = req_reader.child(key).text()
    out = []
    for item in root.child("replies").items(1):
        text = item.child("text").text()
        request = None
        req = item.child("request", required=False)
        if req is not None:
            name = req.text()
            request = requests.get(name, name)
        label = item.child("label").choice(LABELS)
        feats = item.child("features")
        values = {}
        for name in FEATURES:
            value = feats.child(name).data
            if not isinstance(value, bool):
                raise ContentError(path, f"{feats.key}.{name}", "must be true or false")
            values[name] = value
        extra = set(feats.mapping()) - set(FEATURES)
        if extra:
            raise ContentError(path, f"{feats.key}.{sorted(extra)[0]}", "is not a feature")
        out.append(LabelledReply(text, request, label, values))
    return out


def evaluate(replies: list[LabelledReply]) -> Report:
    """Run the assessor over every reply and compare with the labels."""
    predictions = [assess(r.text, r.request) for r in replies]
    pairs = list(zip(replies, predictions, strict=True))
    per_label = {}
    for label in LABELS:
        tp = sum(1 for r, p in pairs if r.label == label == p.label)
        fp = sum(1 for r, p in pairs if p.label == label != r.label)
        fn = sum(1 for r, p in pairs if r.label == label != p.label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = (precision, recall, f1, tp + fn)
    macro = sum(v[2] for v in per_label.values()) / len(LABELS)
    feature_accuracy = {
        name: sum(1 for r, p in pairs if r.features[name] == p.features[name]) / len(replies)
        for name in FEATURES
    }
    errors = [(r, p.label) for r, p in pairs if r.label != p.label]
    return Report(per_label, macro, feature_accuracy, errors, len(replies))


def format_report(report: Report, show_errors: bool = False) -> str:
    lines = [f"{report.total} labelled replies", ""]
    lines.append(f"{'label':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, (p, r, f1, n) in report.per_label.items():
        lines.append(f"{label:<12}{p:>10.3f}{r:>10.3f}{f1:>10.3f}{n:>10d}")
    lines.append(f"macro-F1: {report.macro_f1:.3f}")
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--errors", action="store_true", help="list the mislabelled replies")
    args = parser.parse_args(argv)
    report = evaluate(load_labelled(args.file))
    print(format_report(report, args.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
