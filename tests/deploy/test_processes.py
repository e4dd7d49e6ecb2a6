"""The one process harness (deploy/processes.py): what the launcher imports, and a real child
process started, waited for and stopped (a tiny Python program, no Rasa)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from deploy.processes import (
    REPO_ROOT,
    ServerFailed,
    ServerProcess,
    actions_command,
    free_port,
    rasa_command,
    server_env,
)

NO_TESTS_IMPORTED = textwrap.dedent(
    """
    import sys
    import {module}
    found = sorted(m for m in sys.modules if m == "tests" or m.startswith("tests."))
    assert not found, found
    print("ok")
    """
)


@pytest.mark.parametrize("module", ["deploy.launch", "deploy.cluster", "bench.run"])
def test_the_launcher_and_the_benchmark_import_nothing_of_tests(module: str) -> None:
    # A fresh interpreter: pytest itself has imported tests.* here.
    done = subprocess.run(
        [sys.executable, "-c", NO_TESTS_IMPORTED.format(module=module)],
        cwd=REPO_ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_servers_are_told_to_bind_loopback() -> None:
    assert server_env()["SANIC_HOST"] == "127.0.0.1"
    assert (
        server_env({"SANIC_HOST": "0.0.0.0"})["SANIC_HOST"] == "0.0.0.0"
    )  # an explicit choice wins
    rasa = rasa_command(Path("m.tar.gz"), 5005, Path("c.yml"), Path("e.yml"), ["--enable-api"])
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1"
    assert rasa[rasa.index("--port") + 1] == "5005" and rasa[-1] == "--enable-api"
    assert actions_command(5055)[-2:] == ["--port", "5055"]


def test_a_server_is_waited_for_and_stopped(tmp_path: Path) -> None:
    port = free_port()
    args = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    server = ServerProcess.launch("page", args, server_env(), tmp_path / "page.log", cwd=tmp_path)
    try:
        seconds = server.wait_until_up(f"http://127.0.0.1:{port}/", timeout_s=60)
        assert seconds >= 0 and server.startup_s == seconds
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.stop()
    assert not server.alive()
    server.stop()  # twice is fine


def test_a_server_that_exits_fails_with_the_tail_of_its_log(tmp_path: Path) -> None:
    args = [sys.executable, "-c", "import sys; print('ValueError: no model here'); sys.exit(3)"]
    server = ServerProcess.launch("broken", args, server_env(), tmp_path / "broken.log")
    with pytest.raises(ServerFailed, match=r"broken exited with 3:\nValueError: no model here"):
        server.wait_until_up(f"http://127.0.0.1:{free_port()}/", timeout_s=60)


def _ended(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in status  # killed, not yet reaped by its new parent


def test_kill_ends_the_whole_process_group(tmp_path: Path) -> None:
    # The server forks a child of its own; kill -9 of the group must end both.
    pid_file = tmp_path / "child.pid"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pid_file)!r} + '.tmp', 'w').write(str(child.pid))\n"
        f"os.rename({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n"
        "time.sleep(600)\n"
    )
    args = [sys.executable, "-c", script]
    server = ServerProcess.launch("forker", args, server_env(), tmp_path / "forker.log")
    try:
        server.wait_until(pid_file.exists, "the child's pid file", timeout_s=60)
        child = int(pid_file.read_text())
        assert not _ended(child)
    finally:
        server.kill()
    assert not server.alive()
    for _ in range(100):
        if _ended(child):
            break
        time.sleep(0.1)
    assert _ended(child), f"the forked child {child} outlived kill()"
