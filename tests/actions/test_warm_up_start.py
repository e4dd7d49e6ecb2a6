"""The warm-up starts with the action server (rasa-sdk's start-up hook), never on import."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.processes import (
    START_TIMEOUT_S,
    ServerProcess,
    actions_command,
    free_port,
    server_env,
)
from rasa_sdk_plugins import WARM_UP_THREAD

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_actions_starts_no_thread() -> None:
    code = (
        "import threading, actions\n"
        "names = [t.name for t in threading.enumerate()]\n"
        f"assert {WARM_UP_THREAD!r} not in names, names\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SECURE_BASE_WARM_UP"}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT, env=env, timeout=120)


@pytest.fixture
def action_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """``rasa run actions`` as deployed, with ``SECURE_BASE_WARM_UP`` from the test's param."""
    port = free_port()
    env = server_env(
        {
            "SECURE_BASE_ACTION_TOKEN": secrets.token_urlsafe(32),
            "SECURE_BASE_WARM_UP": request.param,
        }
    )
    log = tmp_path / "actions.log"
    process = ServerProcess.launch("action server", actions_command(port), env, log)
    try:
        process.wait_until_up(f"http://127.0.0.1:{port}/health")
        yield process
    finally:
        process.stop()


def _log_once_it_has(process: ServerProcess, line: str) -> str:
    """The server's log as soon as it holds ``line`` (the limit only stops a hung server)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        log = process.log.read_text(errors="replace")
        if line in log or time.monotonic() > deadline:
            return log
        time.sleep(0.5)


@pytest.mark.server
@pytest.mark.parametrize("action_server", ["1"], indirect=True)
def test_the_action_server_warms_up_as_it_starts(action_server: ServerProcess) -> None:
    log = _log_once_it_has(action_server, "warm-up done")
    assert "warm-up done" in log
    assert "warm-up:" not in log  # no loader failed


@pytest.mark.server
@pytest.mark.parametrize("action_server", ["0"], indirect=True)
def test_secure_base_warm_up_0_keeps_it_off(action_server: ServerProcess) -> None:
    # The listener runs before the server answers, so its line is already written.
    log = action_server.log.read_text(errors="replace")
    assert "warm-up off (SECURE_BASE_WARM_UP=0)" in log
    assert "warm-up done" not in log
