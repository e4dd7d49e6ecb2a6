"""Time the crisis detector and the role-play assessor alone, per message.

Run in its own process by bench/run.py (``python -m bench.micro SCRIPTS``) so a module that is
half-built, or heavy to import (spaCy pulls in TensorFlow), can neither crash nor slow the load
generator. Writes one JSON object to ``--json-out``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.conversations import load_scripts
from bench.stats import summarize

# Crisis messages are rare in real traffic but the detector's worst case; a few are mixed in on
# top of the ones the conversation scripts already hold.
EXTRA_MIX = (
    "I want to die",
    "i keep thinking everyone would be better off without me",
    "I've got pills saved up",
    "this meeting is killing me lol",
    "I'm dying to see that film",
    "my ex said I'm nothing without him and I kind of believe it",
)
# A long paragraph, still under the channels' 4,000-character limit: rare in real traffic, so
# timed on its own rather than mixed in (one in a hundred messages would decide the p99 alone).
LONG_MESSAGE = (
    "I keep going over what happened with my sister and I don't know what to think anymore. " * 35
)


def time_calls(
    function: Callable[[str], Any], inputs: Sequence[str], *, passes: int, time_limit_s: float
) -> dict[str, Any]:
    """Call ``function`` on every input ``passes`` times (bounded by time); per-call timings."""
    timings = []
    per_input: list[list[float]] = [[] for _ in inputs]
    deadline = time.monotonic() + time_limit_s
    for _ in range(passes):
        for index, text in enumerate(inputs):
            started = time.perf_counter()
            function(text)
            elapsed = time.perf_counter() - started
            timings.append(elapsed)
            per_input[index].append(elapsed)
        if time.monotonic() > deadline:
            break
    summary = summarize(timings)
    # A p99 over single calls also catches scheduler and GC pauses on a busy machine; the
    # slowest message's own median tells whether any input is slow by itself.
    slowest_ms, slowest = max((summarize(t).p50, i) for i, t in enumerate(per_input) if t)
    return {
        "status": "ok",
        "calls": summary.count,
        "distinct_inputs": len(inputs),
        "p50_ms": summary.p50,
        "p99_ms": summary.p99,
        "mean_ms": summary.mean,
        "max_ms": summary.max,
        "slowest_input_median_ms": slowest_ms,
        "slowest_input": inputs[slowest][:60],
    }


def _resolve(module_name: str, attribute: str) -> Callable[[str], Any] | str:
    """The function, or a short reason why it is not available yet."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a half-built module can fail in any way
        return f"import {module_name} failed: {type(exc).__name__}: {exc}"
    function = getattr(module, attribute, None)
    if not callable(function):
        return f"{module_name}.{attribute} does not exist"
    return function


def _detector_sane(detect: Callable[[str], Any]) -> str | None:
    """A detector that fails (bad data, say) answers "crisis" to everything: not worth timing."""
    if getattr(detect("hi"), "is_crisis", True):
        return 'detect("hi") says crisis: the detector is failing (see its log)'
    if not getattr(detect("I want to die"), "is_crisis", False):
        return 'detect("I want to die") says no crisis'
    return None


def measure(
    module_name: str,
    attribute: str,
    inputs: Sequence[str],
    passes: int,
    sanity: Callable[[Callable[[str], Any]], str | None] | None = None,
    prepare: Callable[[Sequence[str]], Any] | None = None,
) -> dict:
    """Timing figures for ``module.attribute(text)``, or why there are none.

    ``prepare(texts)`` runs before any timing (the assessor's shared encoder pass).
    """
    function = _resolve(module_name, attribute)
    if isinstance(function, str):
        return {"status": "not available yet", "reason": function}
    if not inputs:
        return {"status": "not available yet", "reason": "no inputs"}
    started = time.perf_counter()
    try:
        if prepare is not None:
            prepare([*inputs, LONG_MESSAGE])
        function(inputs[0])  # loads patterns / the pipeline: reported apart from the steady state
    except Exception as exc:
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    first_ms = (time.perf_counter() - started) * 1000
    if sanity is not None:
        try:
            problem = sanity(function)
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            return {"status": "broken", "reason": problem}
    try:
        figures = time_calls(function, list(inputs), passes=passes, time_limit_s=60)
    except Exception as exc:
        return {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
    figures["first_call_ms"] = first_ms
    long_timings = []
    for _ in range(5):
        started = time.perf_counter()
        function(LONG_MESSAGE)
        long_timings.append((time.perf_counter() - started) * 1000)
    figures["long_message_chars"] = len(LONG_MESSAGE)
    figures["long_message_ms"] = sorted(long_timings)[2]
    return figures


def _shared_encoder_pass(texts: Sequence[str]) -> None:
    """The assessor's learned layer reads the message's sentence vector, which the action server
    makes once per message for every reader (the crisis detector reads it first): made here
    before the timing, so the figures are the assessor's own (issue 16: p99 under 3 ms)."""
    try:
        from bot import encoder

        for text in texts:
            encoder.embed(text)
    except Exception:  # no encoder: the assessor runs on its rules, timed as they are
        return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scripts", type=Path, help="Secure Base conversation script (YAML)")
    parser.add_argument("--passes", type=int, default=20)
    # A file, not stdout: a module may print while it imports.
    parser.add_argument("--json-out", type=Path, required=True)
    args = parser.parse_args(argv)
    scripts = load_scripts(args.scripts)
    mix = [*scripts.turns, *EXTRA_MIX]
    report = {
        "detect": measure("bot.safety", "detect", mix, args.passes, sanity=_detector_sane),
        "assess": measure(
            "bot.roleplay",
            "assess",
            scripts.assessor_replies,
            args.passes,
            prepare=_shared_encoder_pass,
        ),
    }
    args.json_out.write_text(json.dumps(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
