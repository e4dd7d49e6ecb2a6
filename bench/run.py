"""`make bench`: Secure Base against Rasa's own `rasa init` moodbot, same machine, same run.

Trains both bots (timed), starts each Rasa server (and Secure Base's action server) on a free
loopback port, and drives the REST webhook with scripted conversations (bench/scripts/):
sequential, then 20 and 50 concurrent conversations, alternating bot by bot so that background
load on the shared machine hits both alike. Prints a table with Secure Base's figures as ratios
to the moodbot's and a PASS/MISS line per target, profiles the Rasa server with py-spy when a
load target is missed, and writes the same to docs/performance.md (the hand-written analysis
below the marker is kept).

The exit code is 0 whatever the verdicts; it is 1 only when the benchmark itself broke.

    .venv/bin/python bench/run.py            # full run (about 10 minutes)
    .venv/bin/python bench/run.py --quick    # smoke run, prints only unless --out is given
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `import bench` work
    sys.path.insert(0, str(REPO_ROOT))

import yaml  # noqa: E402

from bench import load, profiling  # noqa: E402
from bench.conversations import (  # noqa: E402
    ScriptSet,
    load_scripts,
    payload_intents,
)
from bench.load import LoadResult, run_load  # noqa: E402
from bench.report import (  # noqa: E402
    BotFigures,
    build_rows,
    evaluate_targets,
    format_table,
    format_targets,
    write_document,
)
from bench.stats import summarize  # noqa: E402
from deploy.processes import (  # noqa: E402
    ServerFailed,
    ServerProcess,
    action_endpoint,
    actions_command,
    bin_path,
    free_port,
    rasa_command,
    server_env,
    tail,
)

SB_SCRIPTS = REPO_ROOT / "bench" / "scripts" / "secure_base.yml"
MOOD_SCRIPTS = REPO_ROOT / "bench" / "scripts" / "moodbot.yml"
SB_MODEL = REPO_ROOT / "models" / "secure-base.tar.gz"
SPACY_PIPELINE = REPO_ROOT / "models" / "spacy_en_lookup" / "config.cfg"
TRAINING_DATA = ("data/nlu", "data/rules")
SAFE_REST = "bot.channels.rest.SafeRestInput"
DEFAULT_OUT = REPO_ROOT / "docs" / "performance.md"

TRAIN_TIMEOUT_S = 1200
START_TIMEOUT_S = 240
MEASUREMENTS = ("sequential", "c20", "c50")
CONCURRENCY = {"sequential": 1, "c20": 20, "c50": 50}
LOAD_TARGET_PREFIXES = ("p95 at 20", "throughput at 20", "sequential p50")


class BenchBroken(RuntimeError):
    """The benchmark could not measure (a training or a server failed): exit code 1."""


@dataclass(frozen=True)
class Plan:
    """How much load each measurement gets; every loop also has a time limit."""

    rounds: int
    messages: dict[str, int]
    time_limit_s: float
    warmup: int
    profile_s: int


FULL = Plan(
    rounds=2,
    messages={"sequential": 150, "c20": 500, "c50": 600},
    time_limit_s=120,
    warmup=12,
    profile_s=20,
)
QUICK = Plan(
    rounds=1,
    messages={"sequential": 25, "c20": 80, "c50": 120},
    time_limit_s=45,
    warmup=5,
    profile_s=8,
)


@dataclass
class Bot:
    """One bot set-up under test: its servers, its scripts and what was measured."""

    figures: BotFigures
    scripts: ScriptSet
    rasa: ServerProcess | None = None
    actions: ServerProcess | None = None
    port: int = 0
    results: dict[str, LoadResult] = field(default_factory=dict)

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def bench_env(workdir: Path) -> dict[str, str]:
    """The environment for every process the benchmark starts: offline, quiet, loopback,
    throwaway data."""
    return server_env(
        {
            # The action server's journal goes to the work folder, never to the repo's var/.
            "DATABASE_URL": f"sqlite:///{workdir / 'journal.db'}",
            "SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32),
            "SECURE_BASE_SESSION_SECRET": secrets.token_urlsafe(32),
            # Secure Base's REST channel and action server are locked (bot/channels/rest.py,
            # bot/action_auth.py); the load generator sends the REST token (bench/load.py).
            "SECURE_BASE_REST_TOKEN": load.rest_token(),
            "SECURE_BASE_ACTION_TOKEN": secrets.token_urlsafe(32),
        }
    )


def run_timed(args: list[str], *, cwd: Path, log: Path, env: dict[str, str], what: str) -> float:
    """Run a command to completion; its wall time in seconds, or BenchBroken with its log."""
    started = time.monotonic()
    with log.open("wb") as handle:
        try:
            done = subprocess.run(
                args,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                timeout=TRAIN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchBroken(f"{what} took longer than {TRAIN_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise BenchBroken(f"{what} failed ({done.returncode}):\n{tail(log)}")
    return time.monotonic() - started


def size_mb(path: Path) -> float:
    return path.stat().st_size / 1e6


# --- training ---------------------------------------------------------------------------------


def cold_cache(env: dict[str, str], folder: Path) -> dict[str, str]:
    """A fresh training cache: a warm .rasa/cache would restore components instead of training."""
    return {**env, "RASA_CACHE_DIRECTORY": str(folder)}


def train_moodbot(workdir: Path, env: dict[str, str]) -> tuple[Path, Path, float]:
    """`rasa init --no-prompt` (copies the template, then trains): (project, model, seconds)."""
    project = workdir / "moodbot"
    project.mkdir()  # with --no-prompt, rasa init refuses a folder that does not exist
    seconds = run_timed(
        [bin_path("rasa"), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=workdir,
        log=workdir / "moodbot-train.log",
        env=cold_cache(env, workdir / "moodbot-cache"),
        what="rasa init (moodbot)",
    )
    return project, newest_model(project), seconds


def newest_model(project: Path) -> Path:
    """The newest trained model in a Rasa project's models/ folder."""
    models = sorted((project / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise BenchBroken(f"no trained model in {project / 'models'}")
    return models[-1]


def training_inputs() -> list[Path]:
    """The files a Secure Base model is trained from (the Makefile's list plus bot/nlu code)."""
    files = [REPO_ROOT / "config.yml"]
    for folder in ("domain", *TRAINING_DATA):
        files += sorted((REPO_ROOT / folder).rglob("*.yml"))
    files += sorted((REPO_ROOT / "bot" / "nlu").rglob("*.py"))
    return [f for f in files if f.is_file()]


def model_is_current(model: Path) -> tuple[bool, str]:
    """Whether models/secure-base.tar.gz is newer than every training input."""
    if not model.is_file():
        return False, f"{model.relative_to(REPO_ROOT)} does not exist"
    newest = max(training_inputs(), key=lambda p: p.stat().st_mtime)
    if newest.stat().st_mtime > model.stat().st_mtime:
        return False, f"{newest.relative_to(REPO_ROOT)} changed after the model was trained"
    return True, "newer than every training input"


def train_secure_base(workdir: Path, env: dict[str, str]) -> tuple[Path, float]:
    """Train from the working tree into the work folder: (model, seconds)."""
    if not SPACY_PIPELINE.exists():
        say("building the shared spaCy pipeline first (python -m bot.spacy_pipeline)")
        run_timed(
            [sys.executable, "-m", "bot.spacy_pipeline"],
            cwd=REPO_ROOT,
            log=workdir / "spacy-pipeline.log",
            env=env,
            what="python -m bot.spacy_pipeline",
        )
    out = workdir / "secure-base-model"
    data = [d for d in TRAINING_DATA if (REPO_ROOT / d).is_dir()]
    seconds = run_timed(
        [
            bin_path("rasa"),
            "train",
            "--config",
            "config.yml",
            "--domain",
            "domain",
            "--data",
            *data,
            "--out",
            str(out),
            "--fixed-model-name",
            "secure-base",
        ],
        cwd=REPO_ROOT,
        log=workdir / "secure-base-train.log",
        env=cold_cache(env, workdir / "secure-base-cache"),
        what="rasa train (Secure Base)",
    )
    return out / "secure-base.tar.gz", seconds


# --- configuration of the servers ---------------------------------------------------------------


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    return content if isinstance(content, dict) else {}


def secure_base_channel(env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The REST channel credentials.yml configures, if it imports; else the stock one."""
    configured = read_yaml(REPO_ROOT / "credentials.yml")
    if SAFE_REST not in configured:
        return {"rest": None}, "stock `rest` (credentials.yml does not configure SafeRestInput)"
    check = subprocess.run(
        [sys.executable, "-c", "import bot.channels.rest"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check.returncode != 0:
        last = (check.stderr.strip().splitlines() or ["?"])[-1]
        return {"rest": None}, f"stock `rest`: SafeRestInput does not import yet ({last})"
    return {SAFE_REST: configured[SAFE_REST]}, "`SafeRestInput` (bot/channels/rest.py)"


def project_tracker_store() -> tuple[str, dict[str, Any] | None]:
    """What endpoints.yml configures: ('memory' | 'sqlite' | 'other', the tracker_store block).

    'sqlite' is a SQL tracker store (Rasa's or a subclass) whose database is SQLite, either
    spelled out or through ``${DATABASE_URL}``, which `make run` points at a SQLite file.
    """
    store = read_yaml(REPO_ROOT / "endpoints.yml").get("tracker_store")
    if not isinstance(store, dict) or not store:
        return "memory", None
    kind = str(store.get("type", ""))
    dialect = str(store.get("dialect", "")).lower()
    url = str(store.get("url", ""))
    if "sql" in kind.lower() and (
        dialect == "sqlite" or "DATABASE_URL" in url or url.startswith("sqlite")
    ):
        return "sqlite", store
    return "other", store


def secure_base_endpoints(action_port: int, store: str, workdir: Path) -> dict[str, Any]:
    """The project's endpoints.yml with the action server on its loopback port.

    ``store``: 'memory' (no tracker store), 'project' (endpoints.yml's own, its SQLite file in
    the work folder through DATABASE_URL) or 'sqlite' (Rasa's stock SQL store on a temp file).
    """
    endpoints = read_yaml(REPO_ROOT / "endpoints.yml")
    endpoints["action_endpoint"] = action_endpoint(action_port)
    configured = endpoints.pop("tracker_store", None)
    if store == "project" and isinstance(configured, dict):
        configured = dict(configured)
        if str(configured.get("dialect", "")).lower() == "sqlite" and configured.get("db"):
            configured["db"] = str(workdir / "tracker.db")  # never the repo's var/
        endpoints["tracker_store"] = configured
    elif store == "sqlite":
        endpoints["tracker_store"] = {
            "type": "SQL",
            "dialect": "sqlite",
            "db": str(workdir / "tracker.db"),
        }
    return endpoints


FALLBACK_SIGNS = (
    "Using `InMemoryTrackerStore` instead",
    "Falling back to use the 'InMemoryTrackerStore'",
)


def tracker_store_fell_back(log: Path) -> bool:
    """Whether Rasa quietly replaced the configured tracker store with the in-memory one."""
    try:
        text = log.read_text(errors="replace")
    except FileNotFoundError:
        return False
    return any(sign in text for sign in FALLBACK_SIGNS)


def write_yaml(path: Path, content: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


def start_rasa(
    bot: Bot,
    *,
    name: str,
    model: Path,
    cwd: Path,
    credentials: Path,
    endpoints: Path,
    workdir: Path,
    env: dict[str, str],
) -> None:
    bot.port = free_port()
    bot.rasa = ServerProcess.launch(
        name,
        rasa_command(model, bot.port, credentials, endpoints),
        env,
        workdir / f"{name}.log",
        cwd=cwd,
    )
    bot.figures.startup_s = wait_for_rest_answer(bot.rasa, bot.webhook)
    problem = model_load_failure(bot.rasa.log)
    if problem:
        # The server still answers (the channel's fail-safe), but without a model: no benchmark.
        raise BenchBroken(f"{name} started without its model: {problem}")
    say(f"{name}: first REST answer after {bot.figures.startup_s:.1f} s")


def wait_for_rest_answer(server: ServerProcess, webhook: str) -> float:
    """Seconds from process start to the first 200 answer of the REST webhook to "hi"."""
    body = json.dumps({"sender": "bench-startup-probe", "message": "hi"}).encode()

    def probe() -> bool:
        request = urllib.request.Request(
            webhook,
            data=body,
            headers={"Content-Type": "application/json", **load.rest_headers()},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status == 200 and isinstance(json.loads(answer.read()), list)

    return server.wait_until(probe, webhook, START_TIMEOUT_S)


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB (10^6 bytes), from /proc/<pid>/status."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024 / 1e6  # the kernel's kB are KiB
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def model_load_failure(log: Path) -> str | None:
    """Rasa logs "Could not load model" and serves on without one; the cause follows it."""
    lines = log.read_text(errors="replace").split("\n")
    for index, line in enumerate(lines):
        if "Could not load model" in line:
            causes = [
                later
                for later in lines[index + 1 :]
                if re.match(r"^[\w.]+(Error|Exception)\b", later.strip())
            ]
            return (causes[0] if causes else line).strip()[:600]
    return None


# Lines the servers log when a message was answered by a fall-back instead of the dialogue.
DEGRADED_SIGNS = {
    "crisis detection failed": "the crisis detector failed (answered as a crisis)",
    "dialogue failed": "the dialogue failed (the fail-safe answered)",
    "Falling back to use the 'InMemoryTrackerStore'": "the tracker store failed a save",
}


def degraded_answers(log: Path) -> dict[str, int]:
    """How often each fall-back shows in a server log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return {meaning: text.count(sign) for sign, meaning in DEGRADED_SIGNS.items() if sign in text}


# --- measuring ----------------------------------------------------------------------------------


async def measure(bots: list[Bot], plan: Plan) -> None:
    """Each measurement, round by round, bot after bot (moodbot, Secure Base, ...)."""
    for bot in bots:
        await run_load(
            bot.webhook,
            bot.scripts.conversations,
            concurrency=1,
            messages=plan.warmup,
            time_limit_s=plan.time_limit_s,
            sender_prefix="warmup",
        )
    for measurement in MEASUREMENTS:
        for round_number in range(1, plan.rounds + 1):
            for bot in bots:
                result = await run_load(
                    bot.webhook,
                    bot.scripts.conversations,
                    concurrency=CONCURRENCY[measurement],
                    messages=plan.messages[measurement],
                    time_limit_s=plan.time_limit_s,
                    sender_prefix=f"{measurement}-r{round_number}",
                )
                previous = bot.results.get(measurement)
                bot.results[measurement] = previous.merge(result) if previous else result
                summary = summarize(result.latencies_s) if result.latencies_s else None
                say(
                    f"{measurement:>10} round {round_number} {bot.figures.label:<28} "
                    f"{result.completed:4d} msgs  "
                    + (
                        f"p50 {summary.p50:6.1f} ms  p95 {summary.p95:7.1f} ms  "
                        if summary
                        else "no answers  "
                    )
                    + f"{result.throughput:5.1f} msg/s"
                    + (f"  errors {dict(result.errors)}" if result.errors else "")
                    + ("  (time limit)" if result.stopped_by_time_limit else "")
                )


def fill_figures(bot: Bot) -> None:
    """Latency figures, errors and memory into the bot's column."""
    figures = bot.figures
    for measurement in MEASUREMENTS:
        result = bot.results.get(measurement)
        if result is None:
            continue
        figures.errors += sum(result.errors.values())
        figures.empty_answers += result.empty_answers
        summary = summarize(result.latencies_s) if result.latencies_s else None
        name = "sequential" if measurement == "sequential" else measurement
        setattr(figures, name, summary)
        setattr(figures, f"{name}_rate", result.throughput)
    if bot.rasa is not None and bot.rasa.alive():
        figures.rasa_rss_mb, figures.rasa_peak_mb = memory_mb(bot.rasa.pid)
    if bot.actions is not None and bot.actions.alive():
        figures.actions_rss_mb, figures.actions_peak_mb = memory_mb(bot.actions.pid)


async def profile(bots: list[Bot], plan: Plan, workdir: Path) -> dict[str, Any]:
    """py-spy on each Rasa server while 20 conversations load it (not counted in the table)."""
    summaries: dict[str, Any] = {}
    for bot in bots:
        output = workdir / f"profile-{bot.figures.label.replace(' ', '-')}.txt"
        recorder = asyncio.create_task(profiling.record(bot.rasa.pid, plan.profile_s, output))
        await asyncio.sleep(1.0)  # py-spy attaches first
        await run_load(
            bot.webhook,
            bot.scripts.conversations,
            concurrency=20,
            messages=100_000,  # the time limit ends this loop
            time_limit_s=plan.profile_s - 1.5,
            sender_prefix="profile",
        )
        ok, message = await recorder
        if not ok:
            summaries[bot.figures.label] = message or "py-spy failed"
            say(f"profile of {bot.figures.label} failed: {message}")
            continue
        summaries[bot.figures.label] = profiling.summarize_raw(output.read_text())
        say(f"profiled {bot.figures.label}: {summaries[bot.figures.label].samples} samples")
    return summaries


def run_micro(workdir: Path, env: dict[str, str], quick: bool) -> dict[str, Any]:
    """The crisis detector and assessor timings, from a separate process."""
    out = workdir / "micro.json"
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.micro",
                str(SB_SCRIPTS),
                "--passes",
                "5" if quick else "20",
                "--json-out",
                str(out),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=(workdir / "micro.log").open("wb"),
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pass
    if not out.exists():
        reason = f"bench.micro failed:\n{tail(workdir / 'micro.log', 10)}"
        return {"detect": {"status": "failed", "reason": reason}, "assess": {}}
    return json.loads(out.read_text())


# --- the report ---------------------------------------------------------------------------------


def machine_lines(load_at_start: tuple[float, ...]) -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    commit = _git("rev-parse", "--short", "HEAD").strip()
    return [
        f"- nproc: {len(os.sched_getaffinity(0))} (CPU: {cpu})",
        f"- memory: {memory_kb / 1024 / 1024:.1f} GiB",
        f"- load average (1, 5, 15 min) at the start: {_loads(load_at_start)}, at the end: "
        f"{_loads(os.getloadavg())}. Other work on the machine shares the cores: absolute "
        "figures vary from run to run; alternating the bots keeps the ratios fair.",
        f"- Python {platform.python_version()}, Rasa {importlib.metadata.version('rasa')}, "
        f"rasa-sdk {importlib.metadata.version('rasa-sdk')}",
        f"- project commit: {commit or 'unknown'}{_dirty_note()}",
    ]


def _git(*args: str) -> str:
    """What a git command prints in the repository ('' when git fails)."""
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=False
    ).stdout


def _dirty_note() -> str:
    """Say so only when tracked files differ from the commit (the report itself aside)."""
    changed = _git("status", "--porcelain", "--untracked-files=no").splitlines()
    changed = [line for line in changed if not line.endswith("docs/performance.md")]
    return " (plus uncommitted changes in the tree)" if changed else ""


def _loads(values: tuple[float, ...]) -> str:
    return " ".join(f"{value:.2f}" for value in values)


def micro_lines(micro: dict[str, Any]) -> list[str]:
    lines = []
    for key, title in (
        ("detect", "crisis detector `bot.safety.detect`"),
        ("assess", "role-play assessor `bot.roleplay.assess`"),
    ):
        figures = micro.get(key) or {"status": "not available yet", "reason": "not run"}
        if figures.get("status") == "ok":
            lines.append(
                f"- {title}: p50 {figures['p50_ms']:.3f} ms, p99 {figures['p99_ms']:.3f} ms, "
                f"max {figures['max_ms']:.2f} ms over {figures['calls']} calls "
                f"({figures['distinct_inputs']} distinct messages); "
                f"first call {figures['first_call_ms']:.0f} ms (loading); a "
                f"{figures['long_message_chars']}-character message "
                f"{figures['long_message_ms']:.1f} ms (median of 5); slowest message by its own "
                f"median {figures['slowest_input_median_ms']:.3f} ms "
                f"({figures['slowest_input']!r})"
            )
        else:
            lines.append(f"- {title}: {figures.get('status')} ({figures.get('reason', '')})")
    return lines


def profile_lines(summaries: dict[str, Any]) -> list[str]:
    lines = []
    for label, summary in summaries.items():
        if isinstance(summary, str):
            lines += [f"### {label}", "", f"py-spy failed: {summary}", ""]
            continue
        total = summary.samples or 1
        lines += [
            f"### {label}: {summary.samples} samples of busy threads",
            "",
            "| part of the pipeline | share of samples |",
            "|---|---|",
            *(f"| {name} | {100 * n / total:.1f}% |" for name, n in summary.categories),
            "",
            "Busiest functions (own time):",
            "",
            *(f"- {100 * n / total:5.1f}%  `{frame}`" for frame, n in summary.top_self[:8]),
            "",
            "Busiest functions (including what they call):",
            "",
            *(f"- {100 * n / total:5.1f}%  `{frame}`" for frame, n in summary.top_inclusive[:12]),
            "",
        ]
    return lines


def build_document(
    *,
    load_at_start: tuple[float, ...],
    date: str,
    mode: str,
    setup: list[str],
    table: str,
    targets: str,
    micro: list[str],
    profile: list[str],
    notes: list[str],
) -> str:
    parts = [
        "# Performance: Secure Base against Rasa's moodbot",
        "",
        f"Written by `bench/run.py` (`make bench`) on {date} ({mode} run). Everything above the",
        "marker below is rewritten by each run; the analysis under it is written by hand.",
        "",
        "## Machine",
        "",
        *machine_lines(load_at_start),
        "",
        "## Set-up",
        "",
        *setup,
        "",
        "## Results (ratio = Secure Base / moodbot; lower is better for times and memory)",
        "",
        table,
        "",
        "## Targets",
        "",
        "```",
        targets,
        "```",
        "",
        "## Crisis detector and role-play assessor, per message (in-process)",
        "",
        *micro,
        "",
    ]
    if profile:
        parts += ["## Profile under 20 concurrent conversations (py-spy)", "", *profile]
    if notes:
        parts += ["## Notes from this run", "", *notes, ""]
    return "\n".join(parts)


# --- main ---------------------------------------------------------------------------------------


def check_payloads(scripts: ScriptSet, domain: Path) -> list[str]:
    """Button payloads in the scripts that the domain does not know (still sent, as typed text)."""
    from bot.channels.failsafe import known_intents_from_domain

    unknown = sorted(payload_intents(scripts.turns) - known_intents_from_domain(domain))
    if not unknown:
        return []
    return [
        f"- {scripts.source.name}: payloads not in the domain (the channel treats them as "
        f"typed text): {', '.join(unknown)}"
    ]


async def run_servers(
    args: argparse.Namespace,
    plan: Plan,
    workdir: Path,
    bots: list[Bot],
    setups: list[dict[str, Any]],
) -> dict[str, Any]:
    """Start every server one after the other, measure, profile if needed; stop them all."""
    started: list[ServerProcess] = []
    try:
        action_server: ServerProcess | None = None
        action_port = 0
        for bot, setup in zip(bots, setups, strict=True):
            if setup["needs_actions"] and action_server is None:
                action_port = free_port()
                action_server = ServerProcess.launch(
                    "secure-base-actions",
                    actions_command(action_port),
                    setup["env"],
                    workdir / "secure-base-actions.log",
                )
                started.append(action_server)
                seconds = action_server.wait_until_up(
                    f"http://127.0.0.1:{action_port}/health", START_TIMEOUT_S
                )
                say(f"action server up after {seconds:.1f} s")
            if setup["needs_actions"]:
                bot.actions = action_server
                bot.figures.actions_startup_s = action_server.startup_s
                write_yaml(
                    setup["endpoints"],
                    secure_base_endpoints(action_port, setup["store"], workdir),
                )
            start_rasa(
                bot,
                name=setup["name"],
                model=setup["model"],
                cwd=setup["cwd"],
                credentials=setup["credentials"],
                endpoints=setup["endpoints"],
                workdir=workdir,
                env=setup["env"],
            )
            started.append(bot.rasa)
        await measure(bots, plan)
        for bot in bots:
            if not bot.rasa.alive():
                raise BenchBroken(f"{bot.rasa.name} died during the load:\n{tail(bot.rasa.log)}")
            fill_figures(bot)
        summaries: dict[str, Any] = {}
        if args.profile != "never":
            candidates = [b.figures for b in bots[1:]]
            verdicts = evaluate_targets(bots[0].figures, candidates, None)
            missed = [
                t for t in verdicts if t.passed is False and t.name.startswith(LOAD_TARGET_PREFIXES)
            ]
            if args.profile == "always" or missed:
                say("profiling the Rasa servers under load with py-spy")
                summaries = await profile(bots, plan, workdir)
        return summaries
    finally:
        for process in reversed(started):
            process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer messages: a smoke run")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"where to write the report (default {DEFAULT_OUT.relative_to(REPO_ROOT)}; "
        "a --quick run writes nothing unless --out is given)",
    )
    parser.add_argument(
        "--train",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train Secure Base into a temporary folder (default); --no-train reuses "
        "models/secure-base.tar.gz when it is up to date",
    )
    parser.add_argument(
        "--sqlite",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also measure Secure Base with its SQLite tracker store (auto: when endpoints.yml "
        "makes a SQLite SQL store the default; yes: that one, or Rasa's stock SQL store)",
    )
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="py-spy the servers under load (auto: when a load target is missed)",
    )
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="benchmark this Secure Base model instead of training one (training not timed)",
    )
    parser.add_argument(
        "--moodbot-dir",
        type=Path,
        default=None,
        help="reuse a trained moodbot project from an earlier --keep-workdir run "
        "(training not timed)",
    )
    parser.add_argument(
        "--sb-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for Secure Base's servers only, to compare a setting against "
        "the moodbot (repeatable)",
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and models")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)

    load_at_start = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="secure-base-bench-"))
    env = bench_env(workdir)
    started = time.monotonic()
    say(f"work folder {workdir} ({'quick' if args.quick else 'full'} run)")
    try:
        return _run(args, plan, out, workdir, env, started, load_at_start)
    except (BenchBroken, ServerFailed) as exc:
        print(f"\nThe benchmark broke: {exc}", file=sys.stderr, flush=True)
        print(f"Logs are in {workdir}", file=sys.stderr)
        args.keep_workdir = True
        return 1
    finally:
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(
    args: argparse.Namespace,
    plan: Plan,
    out: Path | None,
    workdir: Path,
    env: dict[str, str],
    started: float,
    load_at_start: tuple[float, ...],
) -> int:
    sb_scripts = load_scripts(SB_SCRIPTS)
    mood_scripts = load_scripts(MOOD_SCRIPTS)
    notes = check_payloads(sb_scripts, REPO_ROOT / "domain")

    mood_train_s: float | None = None
    if args.moodbot_dir:
        mood_project = args.moodbot_dir.resolve()
        mood_model = newest_model(mood_project)
        notes.append(f"- moodbot reused from {mood_project} (--moodbot-dir): training not timed")
        say(f"reusing the moodbot in {mood_project}")
    else:
        say("training the moodbot (rasa init --no-prompt)")
        mood_project, mood_model, mood_train_s = train_moodbot(workdir, env)
        say(f"moodbot trained in {mood_train_s:.1f} s, model {size_mb(mood_model):.1f} MB")
    notes += check_payloads(mood_scripts, mood_project / "domain.yml")

    current, why = model_is_current(SB_MODEL)
    sb_train_s: float | None = None
    if args.model:
        sb_model = args.model.resolve()
        if not sb_model.is_file():
            raise BenchBroken(f"--model {args.model}: no such file")
        model_source = f"{args.model} given with --model; training not timed"
        say(f"using {model_source}")
    elif args.train or not current:
        if not args.train:
            say(f"models/secure-base.tar.gz is not up to date ({why}): training anyway")
        say("training Secure Base from the working tree into the work folder")
        sb_model, sb_train_s = train_secure_base(workdir, env)
        model_source = f"trained by this run from the working tree ({sb_train_s:.0f} s)"
        say(f"Secure Base trained in {sb_train_s:.1f} s, model {size_mb(sb_model):.1f} MB")
    else:
        sb_model = SB_MODEL
        model_source = f"models/secure-base.tar.gz reused ({why}); training not timed"
        say(f"reusing {model_source}")

    say("timing the crisis detector and the assessor in-process")
    micro = run_micro(workdir, env, args.quick)
    for line in micro_lines(micro):
        say(line[2:])

    credentials, channel_note = secure_base_channel(env)
    say(f"Secure Base channel: {channel_note}")
    store, store_config = project_tracker_store()
    with_sqlite = args.sqlite == "yes" or (args.sqlite == "auto" and store == "sqlite")

    mood = Bot(
        BotFigures("moodbot", train_s=mood_train_s, model_mb=size_mb(mood_model)), mood_scripts
    )
    sb_label = "Secure Base (in-memory)"
    sb = Bot(BotFigures(sb_label, train_s=sb_train_s, model_mb=size_mb(sb_model)), sb_scripts)
    bots = [mood, sb]
    setups: list[dict[str, Any]] = [
        {
            "name": "moodbot",
            "model": mood_model,
            "cwd": mood_project,
            "credentials": write_yaml(workdir / "moodbot-credentials.yml", {"rest": None}),
            "endpoints": write_yaml(workdir / "moodbot-endpoints.yml", {}),
            "needs_actions": False,
        },
        {
            "name": "secure-base",
            "model": sb_model,
            "cwd": REPO_ROOT,
            "credentials": write_yaml(workdir / "sb-credentials.yml", credentials),
            "endpoints": workdir / "sb-endpoints.yml",
            "store": "memory",
            "needs_actions": True,
        },
    ]
    if with_sqlite:
        bots.append(Bot(BotFigures("Secure Base (SQLite)", model_mb=size_mb(sb_model)), sb_scripts))
        setups.append(
            {
                **setups[1],
                "name": "secure-base-sqlite",
                "endpoints": workdir / "sb-sqlite-endpoints.yml",
                "store": "project" if store == "sqlite" else "sqlite",
            }
        )

    sb_env = dict(env)
    for item in args.sb_env:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise BenchBroken(f"--sb-env {item!r}: expected NAME=VALUE")
        sb_env[name] = value
        notes.append(f"- Secure Base's servers ran with {name}={value} (--sb-env)")
    for setup_entry in setups:
        setup_entry["env"] = sb_env if setup_entry["needs_actions"] else env

    summaries = asyncio.run(run_servers(args, plan, workdir, bots, setups))

    detect = micro.get("detect") or {}
    detect_p99 = detect.get("p99_ms") if detect.get("status") == "ok" else None
    columns = [bot.figures for bot in bots]
    table = format_table(columns, build_rows(columns))
    targets = format_targets(evaluate_targets(columns[0], columns[1:], detect_p99))
    for bot in bots:
        if bot.rasa is not None:
            for meaning, count in degraded_answers(bot.rasa.log).items():
                notes.append(f"- {bot.figures.label}: {count} times {meaning} (server log)")
        if bot.figures.errors:
            notes.append(f"- {bot.figures.label}: {bot.figures.errors} requests failed")
        if bot.figures.empty_answers:
            notes.append(f"- {bot.figures.label}: {bot.figures.empty_answers} empty answers")
        for measurement, result in bot.results.items():
            if result.stopped_by_time_limit:
                notes.append(
                    f"- {bot.figures.label}, {measurement}: stopped by the time limit "
                    f"({plan.time_limit_s:.0f} s) before its message count"
                )
    configured = f"`{store_config.get('type')}`" if store_config else ""
    if store == "memory":
        store_note = "in-memory (endpoints.yml configures no tracker store: that is the default)"
    elif store == "sqlite":
        store_note = (
            f"in-memory, and the project's default {configured} on a SQLite file in the work "
            "folder (DATABASE_URL), as `make run` uses it: column 'Secure Base (SQLite)'"
        )
    else:
        store_note = f"in-memory; endpoints.yml configures {configured}, not measured here"
    if with_sqlite and store != "sqlite":
        store_note += "; and Rasa's stock SQL store on a SQLite file (--sqlite yes)"
    elif not with_sqlite:
        store_note += "; SQLite not measured (--sqlite yes measures it)"
    for bot, setup_entry in zip(bots, setups, strict=True):
        if setup_entry.get("store") in ("project", "sqlite") and tracker_store_fell_back(
            workdir / f"{setup_entry['name']}.log"
        ):
            notes.append(
                f"- {bot.figures.label}: Rasa fell back to the in-memory tracker store (see its "
                "log): this column did NOT measure SQLite"
            )
    setup = [
        f"- Secure Base model: {model_source}.",
        "- moodbot: `rasa init --no-prompt` in a temporary folder (training time includes the",
        "  template copy, a few milliseconds), stock `rest` channel, no action server, in-memory"
        " tracker store.",
        f"- Secure Base: channel {channel_note}; action server `rasa run actions --actions "
        f"actions`; tracker store {store_note}.",
        "- Each Rasa server on its own free loopback port, started one after the other (start-up"
        " = process start to the first 200 answer of the REST webhook to `hi`).",
        f"- Load: {plan.rounds} round(s) per measurement, bots alternating within each round; "
        f"per bot and round {plan.messages['sequential']} sequential messages, "
        f"{plan.messages['c20']} with 20 and {plan.messages['c50']} with 50 concurrent "
        f"conversations (time limit {plan.time_limit_s:.0f} s per loop), after "
        f"{plan.warmup} warm-up messages.",
        f"- Conversations: {len(sb_scripts.conversations)} scripted Secure Base conversations "
        f"(bench/scripts/secure_base.yml), {len(mood_scripts.conversations)} moodbot ones "
        "(bench/scripts/moodbot.yml); a fresh sender per conversation.",
        "- RSS from /proc/<pid>/status (VmRSS after the load, VmHWM for the peak).",
    ]
    print("\n" + table + "\n", flush=True)
    print(targets + "\n", flush=True)
    for line in notes:
        print(line)
    profile_text = profile_lines(summaries)
    if profile_text:
        print("\n".join(profile_text))
    if out is not None:
        document = build_document(
            load_at_start=load_at_start,
            date=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
            mode="quick" if args.quick else "full",
            setup=setup,
            table=table,
            targets=targets,
            micro=micro_lines(micro),
            profile=profile_text,
            notes=notes,
        )
        write_document(out, document)
        say(f"wrote {out}")
    say(f"benchmark finished in {(time.monotonic() - started) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
