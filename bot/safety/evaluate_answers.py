"""Score the reader of typed replies to "Are you safe right now?" on labelled sets.

``python -m bot.safety.evaluate_answers`` prints, for every set in
``tests/safety/safety_answer_sets/`` (or the files named), a confusion table of expected against
read labels and the two figures that matter: how many not-safe replies were read as safe (must
be none: that is the dangerous error) and how many were read as not safe (the rest are asked
again). Blind rounds (``round*_blind.yml``) were written by someone who never saw the word
lists, before the reader was frozen for that round; their first score is the one to report.
As in the bot (``bot.policies.safety_question``), a reply the crisis detector fires on reads as
not safe; ``--reader-only`` scores the word lists alone.
Adding ``--show`` prints each disagreement (the replies are test data, not user data).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.safety.detector import detect
from bot.safety.safety_answer import SafetyAnswer, SafetyAnswerReader, default_reader
from bot.safety.yaml_data import (
    PROJECT_ROOT,
    SafetyDataError,
    load_yaml,
    require_list,
    require_mapping,
    require_text,
)

SETS_DIR = PROJECT_ROOT / "tests" / "safety" / "safety_answer_sets"
LABELS = tuple(a.value for a in SafetyAnswer)


@dataclass(frozen=True)
class Scored:
    text: str
    expected: str
    read: str


@dataclass
class SetReport:
    path: Path
    scored: list[Scored]

    def count(self, expected: str, read: str | None = None) -> int:
        return sum(
            1 for s in self.scored if s.expected == expected and (read is None or s.read == read)
        )

    @property
    def accuracy(self) -> float:
        return sum(s.expected == s.read for s in self.scored) / max(1, len(self.scored))

    @property
    def not_safe_read_as_safe(self) -> int:
        return self.count("not_safe", "safe")


def load_set(path: Path) -> list[tuple[str, str]]:
    data = require_mapping(load_yaml(path), path, "")
    cases = []
    for index, raw in enumerate(require_list(data.get("replies"), path, "replies")):
        item = require_mapping(raw, path, f"replies[{index}]")
        text = item.get("text")
        if not isinstance(text, str):  # an empty reply is a real case ("" is silence)
            text = require_text(text, path, f"replies[{index}].text")
        label = item.get("label")
        if label not in LABELS:
            raise SafetyDataError(path, f"replies[{index}].label", f"one of {', '.join(LABELS)}")
        cases.append((text, label))
    return cases


def read_as_the_bot_does(text: str, reader: SafetyAnswerReader, detector: bool) -> str:
    """The policy's reading: a reply the crisis detector fires on is "not safe" outright."""
    if detector and detect(text).is_crisis:
        return SafetyAnswer.NOT_SAFE.value
    return reader.read(text).answer.value


def score(
    path: Path, reader: SafetyAnswerReader | None = None, *, detector: bool = True
) -> SetReport:
    reader = reader or default_reader()
    return SetReport(
        path=path,
        scored=[
            Scored(t, label, read_as_the_bot_does(t, reader, detector))
            for t, label in load_set(path)
        ],
    )


def render(report: SetReport, *, show: bool = False) -> str:
    lines = [f"== {report.path.name}: {len(report.scored)} replies"]
    lines.append("expected / read".ljust(18) + "".join(f"{label:>10}" for label in LABELS))
    for expected in LABELS:
        row = "".join(f"{report.count(expected, read):>10}" for read in LABELS)
        lines.append(f"{expected:<18}{row}   (of {report.count(expected)})")
    not_safe = report.count("not_safe")
    lines.append(
        f"not safe read as not safe: {report.count('not_safe', 'not_safe')}/{not_safe}; "
        f"read as safe (the dangerous error): {report.not_safe_read_as_safe}; "
        f"accuracy over all labels: {report.accuracy:.3f}"
    )
    if show:
        for s in report.scored:
            if s.expected != s.read:
                lines.append(f"  expected {s.expected:<8} read {s.read:<8} {s.text!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sets", nargs="*", type=Path, help="YAML sets (default: all in the sets folder)"
    )
    parser.add_argument("--show", action="store_true", help="print every disagreement")
    parser.add_argument(
        "--reader-only",
        action="store_true",
        help="the word lists alone, without the crisis detector the bot also applies",
    )
    args = parser.parse_args(argv)
    paths = args.sets or sorted(SETS_DIR.glob("*.yml"))
    for path in paths:
        print(render(score(path, detector=not args.reader_only), show=args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
