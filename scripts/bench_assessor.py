"""Time the role-play assessor per reply: p50, p95 and p99 over every labelled reply.

Usage: .venv/bin/python scripts/bench_assessor.py [--repeat N] [--limit N]

Two rows: the rules alone, and the whole assessor (rules + the learned layer). The sentence
encoder's pass is left out of both: in the action server it runs once per message and every
reader shares it (the crisis detector reads the same message first), so each reply's vector is
made just before its timed call. Times are CPU time of this process (steady when other work
shares the cores) and wall time. The first call, which loads spaCy, the patterns, the layer and
the encoder, is reported on its own line; so is a 10,000-character reply. No assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench.stats import cpu_and_wall  # noqa: E402
from bot import encoder  # noqa: E402
from bot.roleplay.assessor import get_assessor  # noqa: E402
from bot.roleplay.evaluate import default_sets, load_labelled  # noqa: E402


def _row(name: str, cpu: list[float], wall: list[float]) -> str:
    return f"{name:<18} {cpu_and_wall(cpu, wall, '.2f')}  mean {statistics.fmean(wall):.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the replies")
    parser.add_argument("--limit", type=int, default=0, help="only the first N replies")
    args = parser.parse_args()
    tuned, blind = default_sets()
    replies = [reply for path in (*tuned, *blind) for reply in load_labelled(path)]
    if args.limit > 0:
        replies = replies[: args.limit]

    started = time.perf_counter()
    assessor = get_assessor()
    assessor.assess("warm up")
    first = time.perf_counter() - started

    timings: dict[str, tuple[list[float], list[float]]] = {"rules": ([], []), "full": ([], [])}
    calls = {"rules": assessor.assess_rules, "full": assessor.assess}
    for _ in range(max(1, args.repeat)):
        for name, call in calls.items():  # a pass each, so neither warms the other's caches
            for reply in replies:
                encoder.embed(reply.text)  # the shared pass, outside the timing
                c0, t0 = time.process_time(), time.perf_counter()
                call(reply.text, reply.request)
                timings[name][0].append((time.process_time() - c0) * 1000)
                timings[name][1].append((time.perf_counter() - t0) * 1000)

    long_reply = ("I'm so sorry, I really can't, work is busy and I'm tired. " * 200)[:10_000]
    encoder.embed(long_reply)
    long_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        assessor.assess(long_reply)
        long_times.append((time.perf_counter() - t0) * 1000)

    layer = "with the learned layer" if assessor.layer is not None else "NO learned layer found"
    print(f"first call (loads spaCy, the patterns, the layer, the encoder): {first * 1000:.0f} ms")
    print(f"{len(replies)} replies x {max(1, args.repeat)} passes, {layer}; encoder pass excluded")
    print(_row("rules alone", *timings["rules"]))
    print(_row("whole assessor", *timings["full"]))
    print(f"10,000-character reply: median {statistics.median(long_times):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
