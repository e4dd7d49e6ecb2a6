"""Per-message cost of the NLU pipeline of a trained model, in-process, and where it goes.

    .venv/bin/python -m bench.nlu_speed [--model models/secure-base.tar.gz] [--passes 5]

Loads the model with Rasa's Agent (as ``rasa run`` does, with the project's deferred weight
restore), then parses the typed turns of bench/scripts/secure_base.yml (button payloads left
out) the way a channel does: the crisis detector reads the raw text first (its learned layer
embeds it, filling the encoder's cache), then ``Agent.parse_message``. Prints:

- load time and the process's RSS after loading and after the messages;
- parse time per message (p50, p95) with the encoder's cache warm, as in the server, and with it
  cold (what the NLU alone would cost without the shared pass);
- the time per graph node (each NLU component's ``process``), summed over the messages;
- whether TensorFlow ran for the messages (calls into a TF model's ``call``).

Timings vary with the machine's load: compare models in the same run, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.conversations import load_scripts  # noqa: E402
from bench.stats import summarize  # noqa: E402

SCRIPTS = REPO_ROOT / "bench" / "scripts" / "secure_base.yml"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def typed_turns() -> list[str]:
    turns = [t for t in load_scripts(SCRIPTS).turns if not t.startswith("/")]
    return list(dict.fromkeys(turns))


def _time_nodes(agent) -> dict[str, list[float]]:
    """Wrap every graph node's function with a timer; returns node name -> durations."""
    spent: dict[str, list[float]] = defaultdict(list)
    runner = agent.processor.graph_runner
    for name, node in runner._instantiated_nodes.items():
        original = node._fn

        def timed(*args, __original=original, __name=name, **kwargs):
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__name].append(time.perf_counter() - started)

        node._fn = timed
    return spent


def _count_tf_calls() -> list[int]:
    """Count calls into Rasa's TensorFlow models (DIET, ResponseSelector, TED)."""
    from rasa.utils.tensorflow.models import RasaModel

    calls = [0]
    original = RasaModel.run_inference

    def counted(self, *args, **kwargs):
        calls[0] += 1
        return original(self, *args, **kwargs)

    RasaModel.run_inference = counted
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO_ROOT / "models" / "secure-base.tar.gz")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)

    import logging

    logging.disable(logging.WARNING)
    try:  # Rasa's structlog debug records quote the text
        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    except ImportError:  # pragma: no cover - Rasa 3.6 brings structlog
        pass
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.core.agent import Agent

    from bot import encoder, rasa_overrides, safety

    rasa_overrides.install()  # as the Rasa server does at start-up
    tf_calls = _count_tf_calls()
    rss_start = rss_mb()
    started = time.perf_counter()
    agent = Agent.load(str(args.model))
    load_s = time.perf_counter() - started
    rss_loaded = rss_mb()
    turns = typed_turns()

    async def run() -> dict:
        # Warm-up: the first parse builds caches everywhere.
        for text in turns[:5]:
            safety.detect(text)
            await agent.parse_message(text)
        spent = _time_nodes(agent)
        tf_before = tf_calls[0]
        warm, cold = [], []
        for _ in range(args.passes):
            for text in turns:
                encoder.get_encoder().forget_cache()
                safety.detect(text)  # the channel's fail-safe: embeds the raw text
                t0 = time.perf_counter()
                await agent.parse_message(text)
                warm.append(time.perf_counter() - t0)
        warm_nodes = {k: sum(v) for k, v in spent.items()}
        spent.clear()
        for _ in range(args.passes):
            for text in turns:
                encoder.get_encoder().forget_cache()
                t0 = time.perf_counter()
                await agent.parse_message(text)
                cold.append(time.perf_counter() - t0)
        n = len(warm)
        return {
            "messages": n,
            "distinct": len(turns),
            "warm": summarize(warm),
            "cold": summarize(cold),
            "nodes_ms_per_message": {
                k: 1000 * v / n for k, v in sorted(warm_nodes.items(), key=lambda kv: -kv[1])
            },
            "tf_calls_per_message": (tf_calls[0] - tf_before) / (2 * n),
        }

    result = asyncio.run(run())
    report = {
        "model": str(args.model),
        "load_s": round(load_s, 1),
        "rss_mb": {
            "before_load": round(rss_start),
            "loaded": round(rss_loaded),
            "after": round(rss_mb()),
        },
        "parse_ms_cache_warm": {
            "p50": round(result["warm"].p50, 2),
            "p95": round(result["warm"].p95, 2),
        },
        "parse_ms_cache_cold": {
            "p50": round(result["cold"].p50, 2),
            "p95": round(result["cold"].p95, 2),
        },
        "messages": result["messages"],
        "distinct_messages": result["distinct"],
        "tf_model_calls_per_message": round(result["tf_calls_per_message"], 3),
        "nodes_ms_per_message": {
            k: round(v, 3) for k, v in result["nodes_ms_per_message"].items() if v >= 0.005
        },
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
