"""Time the role-play assessor per reply: p50, p95 and p99 over the labelled replies.

Usage: .venv/bin/python scripts/bench_assessor.py [--repeat N]

The first call loads spaCy and compiles the patterns; it is reported on its own line and left
out of the percentiles. A 10,000-character reply is timed separately (the worst case a chat
client can send in one message).
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

from bot.roleplay.assessor import assess  # noqa: E402
from bot.roleplay.evaluate import load_labelled  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the replies")
    args = parser.parse_args()
    replies = []
    for name in ("replies.yml", "replies_holdout.yml"):
        replies += load_labelled(ROOT / "tests" / "roleplay" / name)

    started = time.perf_counter()
    assess("warm up")
    first = time.perf_counter() - started

    timings = []
    for _ in range(max(1, args.repeat)):
        for reply in replies:
            t0 = time.perf_counter()
            assess(reply.text, reply.request)
            timings.append((time.perf_counter() - t0) * 1000)

    long_reply = ("I'm so sorry, I really can't, work is busy and I'm tired. " * 200)[:10_000]
    long_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        assess(long_reply)
        long_times.append((time.perf_counter() - t0) * 1000)

    print(f"first call (loads spaCy and the patterns): {first * 1000:.0f} ms")
    print(f"{len(timings)} assessments ({len(replies)} replies x {max(1, args.repeat)})")
    print(
        f"per reply: p50 {percentile(timings, 50):.2f} ms  p95 {percentile(timings, 95):.2f} ms"
        f"  p99 {percentile(timings, 99):.2f} ms  mean {statistics.fmean(timings):.2f} ms"
    )
    print(f"10,000-character reply: median {statistics.median(long_times):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
