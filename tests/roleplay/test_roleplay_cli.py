"""The command-line tools, run as a user would run them (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.commands import run_python

# The commands load the role-play assessor's learned layer (models/roleplay_layer.npz) in
# their own process, where tests/markers.py's watch cannot see it.
pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def _run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    return run_python(*args, stdin=stdin, env=ENV, timeout=300)


def test_assess_cli_writes_one_json_object_per_line() -> None:
    replies = ["no i cant do it", "", "ugh fine", "oh sure, because I have nothing better to do"]
    result = _run(["-m", "bot.roleplay.assess"], "\n".join(replies) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(replies)
    assert [r["label"] for r in rows] == ["assertive", "passive", "passive", "aggressive"]
    assert all(set(r) == {"label", "features"} for r in rows)
    assert rows[0]["features"]["clear_no"] is True


def test_evaluate_cli_prints_the_scores() -> None:
    result = _run(["-m", "bot.roleplay.evaluate"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for word in ("assertive", "passive", "aggressive", "partial", "macro-F1", "hedge"):
        assert word in out
    macro = float(out.split("macro-F1:")[1].split()[0])
    assert macro >= 0.85
    # Tuning sets, blind rounds and the cross-validated figures, each under its own heading.
    tuned, blind, cv = out.index("TUNING SETS"), out.index("BLIND ROUNDS"), out.index("CROSS-")
    assert tuned < blind < cv
    assert "tests/roleplay/blind/roleplay_blind_r1.yml" in out[blind:cv]
    assert "data/roleplay/training/corpus.yml" in out[tuned:blind]
    assert "validation" in out and "gives_in" in out and "negotiates" in out


def test_bench_script_prints_percentiles() -> None:
    result = _run(["scripts/bench_assessor.py", "--repeat", "1", "--limit", "20"])
    assert result.returncode == 0, result.stderr
    for word in ("p50", "p95", "p99"):
        assert word in result.stdout
