"""Where a Rasa server spends its time under load: py-spy samples, grouped by pipeline part.

``record`` runs ``py-spy record --format raw`` on a server process while the caller drives load;
``summarize_raw`` reads the collapsed stacks and attributes each sample to the first part of
the pipeline (in ``CATEGORIES`` order) found anywhere in its stack.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Order matters: ResponseSelector subclasses DIETClassifier (its stacks hold both files), and
# rasa/core/processor.py sits under nearly everything, so the specific parts come first.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ResponseSelector", ("response_selector.py",)),
    ("TEDPolicy", ("ted_policy.py",)),
    ("DIETClassifier", ("diet_classifier.py",)),
    ("CountVectorsFeaturizer", ("count_vectors_featurizer.py",)),
    ("spaCy (SpacyNLP, SpacyTokenizer)", ("spacy_nlp.py", "spacy_tokenizer.py", "spacy/")),
    ("project NLU components (bot/nlu)", ("bot/nlu/",)),
    ("other NLU components", ("rasa/nlu/",)),
    ("dialogue policies", ("rasa/core/policies/",)),
    ("tracker store", ("tracker_store.py", "sqlalchemy/")),
    (
        "checking the action server's answer (jsonschema)",
        ("_validate_action_result", "jsonschema/"),
    ),
    ("action server round trip (Rasa side)", ("rasa/utils/endpoints.py", "aiohttp/")),
    ("other action code (rasa/core/actions)", ("rasa/core/actions/",)),
    ("crisis detection (bot/safety)", ("bot/safety/",)),
    ("tracker and domain handling (rasa/shared)", ("rasa/shared/",)),
    ("message processing (rasa/core)", ("rasa/core/",)),
    ("graph engine (rasa/engine)", ("rasa/engine/",)),
    # The project's channels wrap every message: only what is left is theirs.
    ("channel and fail-safe (bot/channels)", ("bot/channels/",)),
    ("HTTP server and event loop", ("sanic/", "asyncio/", "uvloop", "socketio/", "engineio/")),
)
OTHER = "other"
# Frames at the bottom of every stack of a `rasa run` process (start-up code that called the
# server loop): ignored when categorising, or "rasa/core/" would claim every sample.
ENTRY_MARKERS = ("(rasa)", "rasa/__main__.py", "rasa/cli/", "rasa/api.py", "rasa/core/run.py")

# Frames that say nothing in the "including what they call" list: the server's plumbing.
PLUMBING_MARKERS = (
    *ENTRY_MARKERS,
    "sanic/",
    "(connection_task)",
    "(handle_request)",
    "dask/",
    "rasa/engine/",
    "concurrent/futures",
)

_LINE_RE = re.compile(r":\d+\)$")


@dataclass(frozen=True)
class ProfileSummary:
    """Samples per pipeline part and the busiest functions."""

    samples: int
    categories: list[tuple[str, int]]
    top_self: list[tuple[str, int]]
    top_inclusive: list[tuple[str, int]]


def _frame_name(frame: str) -> str:
    # "process (rasa/nlu/x.py:120)" -> "process (rasa/nlu/x.py)": lines would split one function.
    return _LINE_RE.sub(")", frame.strip())


def categorize(frames: list[str]) -> str:
    """The pipeline part a stack belongs to (see ``CATEGORIES``)."""
    frames = [f for f in frames if not any(marker in f for marker in ENTRY_MARKERS)]
    for name, markers in CATEGORIES:
        if any(marker in frame for frame in frames for marker in markers):
            return name
    return OTHER


def parse_raw(text: str) -> list[tuple[list[str], int]]:
    """Collapsed stacks (``frame;frame;frame count`` per line) as (frames, count) pairs."""
    stacks = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append(([_frame_name(f) for f in stack.split(";") if f.strip()], int(count)))
    return stacks


def summarize_raw(text: str, top: int = 12) -> ProfileSummary:
    """Aggregate py-spy's raw output."""
    categories: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for frames, count in parse_raw(text):
        total += count
        categories[categorize(frames)] += count
        if frames:
            leaves[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    return ProfileSummary(
        samples=total,
        categories=categories.most_common(),
        top_self=leaves.most_common(top),
        top_inclusive=[
            (frame, count)
            for frame, count in inclusive.most_common()
            if not any(marker in frame for marker in PLUMBING_MARKERS)
        ][:top],
    )


def py_spy_path() -> str | None:
    """py-spy from the venv (pip install py-spy) or PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    return shutil.which("py-spy")


async def record(pid: int, seconds: int, output: Path, rate: int = 100) -> tuple[bool, str]:
    """Sample ``pid`` for ``seconds``; returns (ok, py-spy's own messages)."""
    binary = py_spy_path()
    if binary is None:
        return False, "py-spy is not installed (pip install py-spy into the venv)"
    process = await asyncio.create_subprocess_exec(
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(seconds),
        "--rate",
        str(rate),
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(output),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=seconds + 60)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return False, "py-spy did not finish in time"
    message = out.decode(errors="replace").strip()
    return process.returncode == 0 and output.exists(), message
