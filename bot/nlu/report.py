"""Score the trained model's language understanding on natural first messages.

``python -m bot.nlu.report [--model models/secure-base.tar.gz] [--set FILE ...] [--show]``
parses every message of the sets with the trained model (the whole NLU pipeline: classifier,
input guard, fallback, crisis override) and prints, per label, how many reached the right skill
or answer, how many got the plain "I didn't follow" (``nlu_fallback``), and a confusion summary.

A set is YAML: ``messages: [{text, label}]``, labels being the skills and topics below (the
blind rounds in ``tests/nlu/blind/`` are written by people who never saw the training data;
each round is scored once on a frozen model before it is folded into the training data).
``make nlu-report`` runs this and Rasa's own cross-validation (``rasa test nlu``), whose
``intent_report.json`` ``--cv FILE`` prints per intent with its commonest confusions.

For a fallback the report also says whether "did you mean" (``bot.nlu.suggestions``) offered the
right skill or topic as a button, and how many in-scope messages got the plain "I didn't
follow" with no buttons.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = PROJECT_ROOT / "models" / "secure-base.tar.gz"
BLIND_DIR = PROJECT_ROOT / "tests" / "nlu" / "blind"

# Which intents count as the right route for each label of a set.
ROUTES: dict[str, frozenset[str]] = {
    "values": frozenset({"start_values_exercise"}),
    "voice_check": frozenset({"start_voice_check"}),
    "reflection": frozenset({"start_dependency_reflection"}),
    "wise_mind": frozenset({"start_wise_mind", "describe_dilemma"}),
    "boundary_script": frozenset({"start_boundary_script"}),
    "roleplay": frozenset({"start_roleplay", "practise_script"}),
    "safety_plan": frozenset({"start_safety_plan"}),
    "show_safety_plan": frozenset({"show_safety_plan"}),
    "edit_safety_plan": frozenset({"edit_safety_plan"}),
    "learn_codependency": frozenset({"learn/codependency"}),
    "learn_healthy_dependency": frozenset({"learn/healthy_dependency"}),
    "learn_differences": frozenset({"learn/differences"}),
    "learn_parasocial": frozenset({"learn/parasocial"}),
    "learn_values": frozenset({"learn/values"}),
    "learn_wise_mind": frozenset({"learn/wise_mind"}),
    "learn_sources": frozenset({"learn/sources"}),
    "learn_overview": frozenset({"learn/overview"}),
    "show_values": frozenset({"show_my_values"}),
    "show_journal": frozenset({"show_journal"}),
    "export_data": frozenset({"export_my_data"}),
    "delete_data": frozenset({"delete_my_data"}),
    "help": frozenset({"ask_help", "ask_topics"}),
    "bot_challenge": frozenset({"ask_bot_challenge"}),
    "show_progress": frozenset({"show_progress"}),
    "out_of_scope": frozenset({"out_of_scope"}),
}
SKILLS = (
    "values",
    "voice_check",
    "reflection",
    "wise_mind",
    "boundary_script",
    "roleplay",
    "safety_plan",
)
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Parsed:
    text: str
    label: str
    route: str  # the intent, or "learn/<key>" for the retrieval intent
    confidence: float
    ranking: tuple[str, ...]
    offered: tuple[str, ...] = ()  # "did you mean" buttons (routes) for a fallback

    @property
    def right(self) -> bool:
        return self.route in ROUTES[self.label]

    @property
    def right_offered(self) -> bool:
        """A fallback whose "did you mean" buttons include the right skill or topic."""
        return self.route == FALLBACK and any(o in ROUTES[self.label] for o in self.offered)

    @property
    def plain_fallback(self) -> bool:
        """The plain "I didn't follow": a fallback with no buttons to offer."""
        return self.route == FALLBACK and not self.offered


def load_set(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise SystemExit(f"{path}: expected a mapping with a 'messages' list")
    pairs = []
    for i, entry in enumerate(data["messages"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise SystemExit(f"{path}: messages[{i}] needs 'text' and 'label'")
        if entry.get("label") not in ROUTES:
            raise SystemExit(f"{path}: messages[{i}] has an unknown label {entry.get('label')!r}")
        pairs.append((entry["text"], entry["label"]))
    return pairs


def _route(parse: dict) -> tuple[str, float, tuple[str, ...]]:
    intent = parse.get("intent") or {}
    name = intent.get("name") or ""
    confidence = float(intent.get("confidence") or 0.0)
    if name == "learn":
        selectors = parse.get("response_selector") or {}
        # Keyed by the retrieval intent, or "default" when the selector was not given one.
        selected = selectors.get("learn") or selectors.get("default") or {}
        key = (selected.get("response") or {}).get("intent_response_key")
        name = key or name
    # The classifier's three likeliest, past the fallback and the crisis override's entries.
    names = (r.get("name", "") for r in parse.get("intent_ranking") or [])
    ranking = tuple(n for n in names if n not in (FALLBACK, "crisis"))[:3]
    return name, confidence, ranking


def _offered(parse: dict) -> tuple[str, ...]:
    from bot.nlu.suggestions import offers

    intent = (parse.get("intent") or {}).get("name")
    return tuple(o.route for o in offers(parse)) if intent == FALLBACK else ()


def parse_all(model: Path, pairs: list[tuple[str, str]]) -> list[Parsed]:
    import logging

    from rasa.core.agent import Agent

    # Rasa's debug records quote the text; this report prints only what it chooses to.
    logging.getLogger("rasa").setLevel(logging.WARNING)
    try:
        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    except ImportError:  # pragma: no cover - Rasa 3.6 brings structlog
        pass

    agent = Agent.load(str(model))

    async def run() -> list[Parsed]:
        out = []
        for text, label in pairs:
            parse = await agent.parse_message(text)
            route, confidence, ranking = _route(parse)
            out.append(Parsed(text, label, route, confidence, ranking, _offered(parse)))
        return out

    return asyncio.run(run())


def format_report(results: list[Parsed], title: str, show: bool = False) -> str:
    by_label: dict[str, list[Parsed]] = defaultdict(list)
    for r in results:
        by_label[r.label].append(r)
    lines = [
        title,
        f"{'label':26} {'right':>9} {'share':>7} {'fallback':>9}  most common wrong routes",
    ]
    for label in ROUTES:
        rows = by_label.get(label)
        if not rows:
            continue
        right = sum(r.right for r in rows)
        fallback = sum(r.route == FALLBACK for r in rows)
        wrong = Counter(r.route for r in rows if not r.right).most_common(3)
        wrong_text = ", ".join(f"{name} {n}" for name, n in wrong)
        lines.append(
            f"{label:26} {right:4}/{len(rows):<4} {right / len(rows):7.2f} {fallback:9}  {wrong_text}"
        )
    total = len(results)
    right = sum(r.right for r in results)
    in_scope = [r for r in results if r.label != "out_of_scope"]
    fallback = sum(r.route == FALLBACK for r in in_scope)
    skills = [r for r in results if r.label in SKILLS]
    lines.append(f"overall: {right}/{total} = {right / total:.3f} routed right")
    if skills:
        lines.append(
            f"skills only: {sum(r.right for r in skills)}/{len(skills)} = "
            f"{sum(r.right for r in skills) / len(skills):.3f}"
        )
    if in_scope:
        lines.append(
            f"in-scope messages answered 'I didn't follow' (nlu_fallback): {fallback}/"
            f"{len(in_scope)} = {fallback / len(in_scope):.3f}"
        )
        offered = sum(r.right_offered for r in in_scope)
        plain = sum(r.plain_fallback for r in in_scope)
        lines.append(
            f"  of those, 'did you mean' with the right one among the buttons: {offered}; "
            f"plain 'I didn't follow' (no buttons): {plain}/{len(in_scope)} = "
            f"{plain / len(in_scope):.3f}"
        )
        lines.append(
            f"routed right or offered as a button: {right + offered}/{total} = "
            f"{(right + offered) / total:.3f}"
        )

    def in_ranking(r: Parsed) -> bool:  # "learn" stands for every topic: the selector picks
        return any(
            name in ROUTES[r.label]
            or (name == "learn" and any(k.startswith("learn/") for k in ROUTES[r.label]))
            for name in r.ranking
        )

    top3 = sum(in_ranking(r) for r in results)
    lines.append(
        f"right intent among the classifier's top three (learn for any topic): {top3}/{total}"
    )
    if show:
        lines.append("")
        lines.append("Misrouted:")
        for r in results:
            if not r.right:
                flat = " ".join(r.text.split())
                offered = f" offered {','.join(r.offered)}" if r.offered else ""
                lines.append(f"  [{r.label} -> {r.route} {r.confidence:.2f}{offered}] {flat[:110]}")
    return "\n".join(lines)


def format_cv_report(report: dict, title: str) -> str:
    """Per intent, from Rasa's ``intent_report.json`` (``rasa test nlu --cross-validation``)."""
    summary_keys = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    lines = [title, f"{'intent':30} {'F1':>5} {'prec':>5} {'recall':>6} {'n':>5}  confused with"]
    rows = sorted(
        ((k, v) for k, v in report.items() if k not in summary_keys and isinstance(v, dict)),
        key=lambda kv: (kv[1].get("f1-score", 0.0), kv[0]),
    )
    for name, row in rows:
        confused = sorted((row.get("confused_with") or {}).items(), key=lambda kv: -kv[1])[:3]
        lines.append(
            f"{name:30} {row.get('f1-score', 0):5.2f} {row.get('precision', 0):5.2f} "
            f"{row.get('recall', 0):6.2f} {int(row.get('support', 0)):5}  "
            + ", ".join(f"{k} {n}" for k, n in confused)
        )
    for key in ("accuracy", "macro avg", "weighted avg", "micro avg"):
        value = report.get(key)
        if isinstance(value, dict):
            lines.append(f"{key}: F1 {value.get('f1-score', 0):.3f}")
        elif isinstance(value, int | float):
            lines.append(f"{key}: {value:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--set", type=Path, action="append", dest="sets")
    parser.add_argument("--show", action="store_true", help="list every misrouted message")
    parser.add_argument(
        "--cv", type=Path, help="print this intent_report.json of `rasa test nlu` per intent"
    )
    args = parser.parse_args(argv)
    if args.cv:
        import json

        report = json.loads(args.cv.read_text(encoding="utf-8"))
        print(format_cv_report(report, f"Cross-validated intents ({args.cv})"))
        print()
        if not args.sets:
            return 0
    sets = args.sets or sorted(BLIND_DIR.glob("*.yml"))
    if not sets:
        print(f"no sets given and none in {BLIND_DIR}", file=sys.stderr)
        return 2
    if not args.model.is_file():
        print(f"{args.model} is missing: run `make model` first", file=sys.stderr)
        return 2
    for path in sets:
        results = parse_all(args.model, load_set(path))
        print(format_report(results, f"NLU routing on {path.name} ({args.model.name})", args.show))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
