"""Start and stop the servers under test: a Rasa server (and its action server) per bot.

Every server listens on a free loopback port, logs to a file in the benchmark's work folder, and
runs in its own process group so stopping it stops everything it started.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.load import rest_headers

STOP_TIMEOUT_S = 30.0


class ServerFailed(RuntimeError):
    """A server exited or did not answer in time; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
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


def memory_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MB (10^6 bytes), from /proc/<pid>/status."""
    values = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024 / 1e6  # the kernel's kB are KiB
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def children(pid: int) -> list[int]:
    """Direct child processes (a server that forks workers would show up here)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(child) for child in text)
    return found


@dataclass
class ServerProcess:
    """One running server."""

    name: str
    popen: subprocess.Popen
    log: Path
    started_at: float
    startup_s: float | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it if it does not go."""
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.popen.wait(STOP_TIMEOUT_S)


def launch(
    name: str, args: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path
) -> ServerProcess:
    """Start a process in a new session, output to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    try:
        popen = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        handle.close()  # the child holds its own copy
    return ServerProcess(name=name, popen=popen, log=log, started_at=time.monotonic())


def _poll(server: ServerProcess, probe, timeout_s: float, what: str) -> float:
    deadline = server.started_at + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise ServerFailed(
                f"{server.name} exited with {server.popen.returncode}:\n{tail(server.log)}"
            )
        try:
            if probe():
                server.startup_s = time.monotonic() - server.started_at
                return server.startup_s
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.2)
    server.stop()
    raise ServerFailed(
        f"{server.name} did not answer {what} in {timeout_s:.0f} s:\n{tail(server.log)}"
    )


def wait_for_health(server: ServerProcess, url: str, timeout_s: float) -> float:
    """Seconds from process start until ``GET url`` answers 200."""

    def probe() -> bool:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200

    return _poll(server, probe, timeout_s, url)


def wait_for_rest_answer(server: ServerProcess, webhook: str, timeout_s: float) -> float:
    """Seconds from process start to the first 200 answer of the REST webhook to "hi"."""
    body = json.dumps({"sender": "bench-startup-probe", "message": "hi"}).encode()

    def probe() -> bool:
        request = urllib.request.Request(
            webhook,
            data=body,
            headers={"Content-Type": "application/json", **rest_headers()},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status == 200 and isinstance(json.loads(answer.read()), list)

    return _poll(server, probe, timeout_s, webhook)
