"""Benchmark the crisis detector: time per message of ``bot.safety.detect``.

Three mixes of 90% short messages (the evaluation set's own texts, crisis and not), 8%
paragraphs (400-1,500 characters) and 2% long texts (5,000+ characters):
  chat   paragraphs and long texts are slices of ordinary prose (the project's seed article by
         default, --prose), one in ten with a crisis sentence inside
  hard   paragraphs and long texts are built from the hard non-crisis messages (idioms full of
         "die", "kill", "cut"), one in ten with a crisis sentence inside
  dense  paragraphs and long texts are built from any evaluation messages, half of them crisis
         sentences: a worst case for the matcher, not a real conversation
Prints p50/p95/p99 per mix and size class, as CPU time of this process (stable when other
processes share the cores) and as wall time, the load time and one 1 MB message. No
assertions.

Both layers run: the patterns and the learned layer (``models/crisis_layer.npz``, built by
``make model``). The shared sentence encoder's call is excluded from the detector's figures, as
in a running server where the encoder has already embedded the message for the NLU: each text
is embedded once before it is timed, and the encoder's own time is printed apart, with the
number of forward passes per message (it must stay at most one).

    .venv/bin/python scripts/bench_crisis.py [--messages 3000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import cpu_and_wall, nearest_rank
from bot import encoder
from bot.safety import learned
from bot.safety.detector import CrisisDetector
from bot.safety.evaluate import DEFAULT_EVAL_PATH, load_cases

SEEDS = Path("/work/shared/seeds")
MIX = (("short", 0.90), ("paragraph", 0.08), ("long", 0.02))


def _sentences(prose: Path | None) -> list[str]:
    if prose and prose.exists():
        text = " ".join(prose.read_text(encoding="utf-8").split())
        return [s.strip() + "." for s in text.split(". ") if len(s.strip()) > 20]
    return [c.text for c in load_cases(DEFAULT_EVAL_PATH) if c.label == "long_texts"]


def _texts(rng: random.Random, count: int, mix: str, prose: list[str]) -> list[tuple[str, str]]:
    cases = [c for c in load_cases(DEFAULT_EVAL_PATH) if len(c.text) < 400]
    short = [c.text for c in cases]
    calm = [c.text for c in cases if c.group == "non_crisis"]
    crisis = [c.text for c in cases if c.group == "crisis"]
    dense = mix == "dense"
    texts = []
    for _ in range(count):
        kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        if kind == "short":
            text = rng.choice(short)
        else:
            target = 5000 if kind == "long" else rng.randint(400, 1500)
            pool = {"chat": prose, "hard": calm, "dense": short}[mix]
            parts: list[str] = []
            first = rng.randrange(len(pool))
            while sum(len(p) + 1 for p in parts) < target:
                # prose is read in order (real paragraphs); messages are drawn at random
                parts.append(
                    pool[(first + len(parts)) % len(pool)] if mix == "chat" else rng.choice(pool)
                )
            if not dense and rng.random() < 0.1:
                parts.insert(rng.randrange(len(parts)), rng.choice(crisis))
            text = " ".join(parts)
        texts.append((kind, text))
    return texts


def _row(label: str, cpu: list[float], wall: list[float]) -> str:
    return f"{label:10} n={len(cpu):5}  {cpu_and_wall(cpu, wall, '7.3f')} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--prose",
        type=Path,
        default=next(iter(sorted(SEEDS.glob("*.txt"))), None),
        help="plain text for the chat mix's paragraphs (default: the seed article)",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    started = time.perf_counter()
    layer = learned.default_layer()
    detector = CrisisDetector(layer=layer)
    detector.load()
    shared = encoder.get_encoder()
    load_seconds = time.perf_counter() - started
    if layer is None:
        print("the learned layer is missing (make model builds it): timing the patterns alone")

    print(f"crisis detector benchmark: {args.messages} messages per mix, seed {args.seed}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"prose for the chat mix: {args.prose or 'the evaluation set long texts'}")
    print(f"load (spaCy pipeline + patterns + learned layer + encoder): {load_seconds:.2f} s")
    prose = _sentences(args.prose)
    for mix in ("chat", "hard", "dense"):
        texts = _texts(rng, args.messages, mix, prose)
        for _, text in texts[:200]:  # warm the tokenizer cache as a running server has it
            detector.detect(text)
        cpu: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
        wall: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
        encode_ms: list[float] = []
        passes: list[int] = []
        for kind, text in texts:
            shared.forget_cache()
            encode_start = time.process_time_ns()
            encoder.embed(text)  # the NLU's call in a server; the detector's is then free
            encode_ms.append((time.process_time_ns() - encode_start) / 1e6)
            before = shared.calls
            cpu_start, wall_start = time.process_time_ns(), time.perf_counter_ns()
            detector.detect(text)
            wall[kind].append((time.perf_counter_ns() - wall_start) / 1e6)
            cpu[kind].append((time.process_time_ns() - cpu_start) / 1e6)
            passes.append(shared.calls - before)
        sizes = {k: statistics.mean(len(t) for kk, t in texts if kk == k) for k in cpu}
        print(f"-- {mix} mix")
        print(_row("all", sum(cpu.values(), []), sum(wall.values(), [])))
        print(
            f"{'encoder':10} cpu p50 {nearest_rank(encode_ms, 50):7.3f}  p99 "
            f"{nearest_rank(encode_ms, 99):7.3f} ms (not in the rows); extra passes by the "
            f"detector per message: short {max(p for (k, _), p in zip(texts, passes, strict=True) if k == 'short')}"
            f", longer texts (their windows, batched) up to {max(passes)}"
        )
        for kind in cpu:
            if cpu[kind]:
                print(_row(kind, cpu[kind], wall[kind]) + f"  ({sizes[kind]:.0f} chars)")
    megabyte = ("I had a long day at work and then cooked dinner. " * 21_000)[:1_000_000]
    started = time.perf_counter()
    detector.detect(megabyte + " I want to die")
    print(f"one 1,000,000-character message: {time.perf_counter() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
