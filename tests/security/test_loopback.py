"""`make run` (scripts/run.sh) on a fresh machine: every server on loopback, both doors locked.

The script is started as `make run` starts it, with no REST or action token set: it must make
both (0600 files), print how to use the REST one without printing it, and every port it opens
must listen on 127.0.0.1 only (read from `ss -ltn`, and tried on this machine's other addresses).
"""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.journal.db import dispose_engines, upgrade
from deploy.processes import REPO_ROOT, ServerProcess, find_model, free_port
from tests.e2e.chat import without_notice

pytestmark = pytest.mark.server


@dataclass
class Running:
    ports: dict[str, int]
    var_dir: Path
    output: Path

    def rest_token(self) -> str:
        return (self.var_dir / "rest_token").read_text().strip()


@pytest.fixture(scope="module")
def run_sh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("run-sh")
    ports = {"ACTION_PORT": free_port(), "RASA_PORT": free_port(), "WEB_PORT": free_port()}
    database_url = f"sqlite:///{workdir / 'secure_base.db'}"
    upgrade(database_url)  # `make run` does this (make db) before run.sh
    dispose_engines(database_url)
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("SECURE_BASE_REST_TOKEN", "SECURE_BASE_ACTION_TOKEN", "SANIC_HOST")
    }
    env.update({name: str(port) for name, port in ports.items()})
    env.update(
        SECURE_BASE_MODEL=str(find_model()),
        DATABASE_URL=database_url,
        SECURE_BASE_VAR_DIR=str(workdir / "var"),
        # Set so nothing is written to the repository's var/ by a test.
        SECURE_BASE_ID_SECRET=secrets.token_urlsafe(32),
        SECURE_BASE_SESSION_SECRET=secrets.token_urlsafe(32),
    )
    output = workdir / "run.out"
    run = ServerProcess.launch(
        "run.sh", ["bash", str(REPO_ROOT / "scripts" / "run.sh")], env, output
    )
    try:
        run.wait_until(
            lambda: "Secure Base is running" in output.read_text(errors="replace"),
            "with 'Secure Base is running'",
        )
        yield Running(ports, workdir / "var", output)
    finally:
        run.stop()


def _listening(port: int) -> list[str]:
    """The local addresses that listen on ``port`` (from ``ss -ltn``)."""
    table = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True, check=True).stdout
    found = []
    for line in table.splitlines():
        local = line.split()[3]
        address, _, local_port = local.rpartition(":")
        if local_port == str(port):
            found.append(address)
    return found


def _other_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (from ``ip -4 -o addr``)."""
    table = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    addresses = [line.split()[3].split("/")[0] for line in table.splitlines()]
    return [a for a in addresses if not a.startswith("127.")]


def test_every_server_listens_on_loopback_only(run_sh: Running) -> None:
    for name, port in run_sh.ports.items():
        assert _listening(port) == ["127.0.0.1"], (name, _listening(port))


def test_no_server_answers_on_the_machines_other_addresses(run_sh: Running) -> None:
    others = _other_addresses()
    if not others:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    for address in others:
        for name, port in run_sh.ports.items():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=3).close()
            assert name


def test_the_tokens_are_made_private_and_the_rest_one_is_explained(run_sh: Running) -> None:
    printed = run_sh.output.read_text(errors="replace")
    for name in ("rest_token", "action_token"):
        path = run_sh.var_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_text().strip()) >= 32
        assert path.read_text().strip() not in printed
    assert "Authorization: Bearer $(cat " in printed
    assert str(run_sh.var_dir / "rest_token") in printed


def test_rest_is_locked_and_opens_with_the_generated_token(run_sh: Running) -> None:
    url = f"http://127.0.0.1:{run_sh.ports['RASA_PORT']}/webhooks/rest/webhook"
    body = {"sender": "me", "message": "what do you remember about me?"}
    assert requests.post(url, json=body, timeout=60).status_code == 401
    answer = requests.post(
        url, json=body, headers={"Authorization": f"Bearer {run_sh.rest_token()}"}, timeout=120
    )
    assert answer.status_code == 200
    texts = " ".join(m.get("text", "") for m in without_notice(answer.json()))
    # An answer from the action server (action_show_journal), not the fail-safe's apology:
    # Rasa reaches it with the action token run.sh made.
    assert texts.startswith("I don't have anything saved about you yet"), texts
