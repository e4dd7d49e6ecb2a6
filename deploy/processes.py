"""Start and stop the project's real processes: Rasa servers, action servers, the web page.

One harness for everyone who starts them: the operator's launcher (deploy/cluster.py, through
``python -m deploy.launch``), the benchmark (bench/run.py) and the tests (tests/e2e/servers.py,
tests/faults, tests/security). It imports nothing of ``tests/``.

- ``free_port()`` picks a loopback port; ``find_model()`` the trained model.
- ``server_env()`` is the environment every server gets: offline, quiet, bound to 127.0.0.1.
- ``rasa_command()``, ``actions_command()`` and ``web_command()`` are the command lines;
  ``action_endpoint()`` is endpoints.yml's way to the action server, ``rest_headers()`` what a
  REST request needs.
- ``ServerProcess.launch()`` starts one in its own process group with its output in a log file;
  ``wait_until_up(url)`` waits for a 200 (the limit only stops a hung start), ``stop()`` sends
  SIGTERM to the group and SIGKILL if it does not go, ``kill()`` is ``kill -9``. A server that
  exits or never answers raises ``ServerFailed`` with the tail of its log.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_ENV = "SECURE_BASE_MODEL"
# Start-up here is 20-60 s per server on 2 shared cores; the limit only stops a hung start.
START_TIMEOUT_S = float(os.environ.get("SECURE_BASE_TEST_START_TIMEOUT", "300"))
STOP_TIMEOUT_S = 30.0


class ServerFailed(RuntimeError):
    """A server exited or did not answer in time; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_model() -> Path:
    """The trained model: ``SECURE_BASE_MODEL``, else the newest ``models/*.tar.gz``."""
    chosen = os.environ.get(MODEL_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_absolute():
            path = REPO_ROOT / path
        if not path.is_file():
            raise FileNotFoundError(f"{MODEL_ENV}={chosen}: no such model file")
        return path
    models = sorted((REPO_ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError("no trained model in models/: run `make train` first")
    return models[-1]


def tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file (for error messages), without progress bars."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    # Training logs are mostly tqdm bars redrawn with \r on one line: they would hide the error.
    kept = [line[:500] for line in text.split("\n") if "\r" not in line and "it/s" not in line]
    # Start at the last error when there is one: Rasa follows it with long lists of names.
    errors = [i for i, line in enumerate(kept) if re.search(r"(Error|Exception)\b", line)]
    start = errors[-1] if errors else max(0, len(kept) - lines)
    return "\n".join(kept[start : start + lines])


def bin_path(name: str) -> str:
    """An executable of this Python's environment (``rasa`` of the venv)."""
    return str(Path(sys.executable).parent / name)


def server_env(*layers: Mapping[str, str]) -> dict[str, str]:
    """This process's environment for a server: no telemetry, quiet, loopback; then each of
    ``layers`` in turn (a later one wins)."""
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        # rasa-sdk binds 0.0.0.0 unless told otherwise; Rasa gets --interface (rasa_command).
        "SANIC_HOST": "127.0.0.1",
    }
    for layer in layers:
        env.update(layer)
    return env


def rasa_command(
    model: Path,
    port: int,
    credentials: Path,
    endpoints: Path,
    extra: Sequence[str] = (),
) -> list[str]:
    """``rasa run`` on 127.0.0.1:``port`` with these files."""
    return [
        bin_path("rasa"),
        "run",
        "--model",
        str(model),
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--credentials",
        str(credentials),
        "--endpoints",
        str(endpoints),
        *extra,
    ]


def actions_command(port: int) -> list[str]:
    """``rasa run actions`` for the project's actions/ (bound by ``SANIC_HOST``)."""
    return [bin_path("rasa"), "run", "actions", "--actions", "actions", "--port", str(port)]


def web_command(port: int, socket_url: str) -> list[str]:
    """The chat page (bot/web.py) on 127.0.0.1:``port``, talking to ``socket_url``."""
    return [sys.executable, "-m", "bot.web", "--port", str(port), "--socket-url", socket_url]


def action_endpoint(port: int) -> dict[str, Any]:
    """endpoints.yml's ``action_endpoint`` for the action server(s) on 127.0.0.1:``port``, with
    the token taken from the environment as endpoints.yml does."""
    return {
        "url": f"http://127.0.0.1:{port}/webhook",
        "headers": {"Authorization": "Bearer ${SECURE_BASE_ACTION_TOKEN}"},
    }


def rest_headers(token: str) -> dict[str, str]:
    """What a REST request needs to be let in (``token``: ``SECURE_BASE_REST_TOKEN``'s value)."""
    return {"Authorization": f"Bearer {token}"}


class ServerProcess:
    """One running server in its own session, so stopping it also stops whatever it forked."""

    def __init__(self, name: str, popen: subprocess.Popen, log: Path) -> None:
        self.name = name
        self.popen = popen
        self.log = log
        self.started_at = time.monotonic()
        # Seconds from the start until the first answer (set by the waits).
        self.startup_s: float | None = None

    @classmethod
    def launch(
        cls,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        log: Path,
        *,
        cwd: Path = REPO_ROOT,
    ) -> ServerProcess:
        """Start ``args`` with its output appended to ``log``."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as handle:  # the child keeps its own copy
            popen = subprocess.Popen(
                list(args),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, popen, log)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_until(
        self, probe: Callable[[], bool], what: str, timeout_s: float = START_TIMEOUT_S
    ) -> float:
        """Poll ``probe`` until it is true; the seconds since the start (``ServerFailed`` if the
        process exits first or ``timeout_s`` passes, counted from this call)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise ServerFailed(
                    f"{self.name} exited with {self.popen.returncode}:\n{tail(self.log)}"
                )
            try:
                if probe():
                    self.startup_s = time.monotonic() - self.started_at
                    return self.startup_s
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.2)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer {what} in time:\n{tail(self.log)}")

    def wait_until_up(self, url: str, timeout_s: float = START_TIMEOUT_S) -> float:
        """Wait until ``GET url`` answers 200; the seconds since the start."""

        def answers() -> bool:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return answer.status == 200

        return self.wait_until(answers, url, timeout_s)

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it does not go (safe to call twice)."""
        if not self.alive():
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.popen.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(STOP_TIMEOUT_S)

    def kill(self) -> None:
        """``kill -9`` the process group: no clean shutdown, as a crash or the OOM killer does."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(STOP_TIMEOUT_S)
