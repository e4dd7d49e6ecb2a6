"""Start the real action server and Rasa server on free ports for end-to-end tests.

``RasaStack(credentials, workdir)`` writes a credentials.yml from the dict, an endpoints.yml with
the action server and the project's tracker store on one SQLite database (``database_url``,
also the journal's ``DATABASE_URL``) in ``workdir``, starts both servers from the repo
root with the trained model, waits until they answer, and stops them on ``stop()`` (or at the end
of a ``with`` block). ``restart_rasa()`` restarts the Rasa server on the same port and tracker
store, which is how a test proves conversations survive a restart.

Used by the channel, web and Telegram tests; the processes' output goes to log files in
``workdir`` and the tail of a log is shown when a server fails to start.

Both servers listen on 127.0.0.1 and are locked as deployed: Rasa sends a fresh
``SECURE_BASE_ACTION_TOKEN`` to the action server, and a REST request needs
``stack.rest_headers`` (``Authorization: Bearer <stack.rest_token>``).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_ENV = "SECURE_BASE_MODEL"
# Start-up here is 20-60 s per server on 2 shared cores; the limit only stops a hung start.
START_TIMEOUT_S = float(os.environ.get("SECURE_BASE_TEST_START_TIMEOUT", "300"))
STOP_TIMEOUT_S = 30.0


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


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class ServerFailed(RuntimeError):
    """A server did not come up; the message carries the tail of its log."""


class _Process:
    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._handle = log.open("ab")
        # A new session, so stopping it also stops any children it forked.
        self.popen = subprocess.Popen(
            list(args),
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, url: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise ServerFailed(
                    f"{self.name} exited with {self.popen.returncode}:\n{_tail(self.log)}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer {url} in time:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.popen.poll() is None:
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
        self._handle.close()


class RasaStack:
    """The action server and the Rasa server with the given channels, on free ports."""

    def __init__(
        self,
        credentials: Mapping[str, Any],
        workdir: Path,
        *,
        model: Path | None = None,
        env: Mapping[str, str] | None = None,
        rasa_args: Sequence[str] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.model = model or find_model()
        self.rasa_port = free_port()
        self.action_port = free_port()
        # As deployed (endpoints.yml): one database for the journal and the conversation log,
        # kept by the erasing tracker store.
        self.database_url = f"sqlite:///{self.workdir / 'secure_base.db'}"
        self.credentials_file = self.workdir / "credentials.yml"
        self.endpoints_file = self.workdir / "endpoints.yml"
        self.credentials_file.write_text(yaml.safe_dump(dict(credentials), sort_keys=False))
        self.endpoints_file.write_text(
            yaml.safe_dump(
                {
                    "action_endpoint": {
                        "url": f"http://127.0.0.1:{self.action_port}/webhook",
                        # As endpoints.yml: the token comes from the environment.
                        "headers": {"Authorization": "Bearer ${SECURE_BASE_ACTION_TOKEN}"},
                    },
                    "tracker_store": {
                        "type": "bot.journal.tracker_store.ErasingSQLTrackerStore",
                        "url": self.database_url,
                    },
                },
                sort_keys=False,
            )
        )
        self.rasa_args = list(rasa_args)
        bin_dir = Path(sys.executable).parent
        self._rasa = str(bin_dir / "rasa")
        self.env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONDONTWRITEBYTECODE": "1",
            # Nothing under the repo's var/ is touched by a test run.
            "DATABASE_URL": self.database_url,
            "SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32),
            "SECURE_BASE_SESSION_SECRET": secrets.token_urlsafe(32),
            "SECURE_BASE_REST_TOKEN": secrets.token_urlsafe(32),
            "SECURE_BASE_ACTION_TOKEN": secrets.token_urlsafe(32),
            # rasa-sdk binds 0.0.0.0 unless told otherwise.
            "SANIC_HOST": "127.0.0.1",
            **(env or {}),
        }
        self._actions: _Process | None = None
        self._rasa_proc: _Process | None = None

    @property
    def base_url(self) -> str:
        """The Rasa server, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rest_token(self) -> str:
        return self.env["SECURE_BASE_REST_TOKEN"]

    @property
    def rest_headers(self) -> dict[str, str]:
        """What a REST request needs to be let in."""
        return {"Authorization": f"Bearer {self.rest_token}"}

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def _start_rasa(self) -> None:
        args = [
            self._rasa,
            "run",
            "--model",
            str(self.model),
            "--port",
            str(self.rasa_port),
            "--interface",
            "127.0.0.1",
            "--credentials",
            str(self.credentials_file),
            "--endpoints",
            str(self.endpoints_file),
            *self.rasa_args,
        ]
        self._rasa_proc = _Process("rasa server", args, self.env, self.workdir / "rasa.log")
        self._rasa_proc.wait_until_up(f"{self.base_url}/")

    def start(self) -> RasaStack:
        """Start both servers and wait until they answer; returns self."""
        # As `make run` does: the journal's schema first (Rasa adds its own `events` table).
        from bot.journal.db import dispose_engines, upgrade

        upgrade(self.database_url)
        dispose_engines(self.database_url)
        args = [self._rasa, "run", "actions", "--actions", "actions", "--port"]
        self._actions = _Process(
            "action server",
            [*args, str(self.action_port)],
            self.env,
            self.workdir / "actions.log",
        )
        try:
            self._actions.wait_until_up(f"{self.action_url}/health")
            self._start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def restart_rasa(self) -> None:
        """Stop the Rasa server and start it again on the same port and tracker store."""
        if self._rasa_proc is not None:
            self._rasa_proc.stop()
        self._start_rasa()

    def kill_rasa(self) -> None:
        """``kill -9`` the Rasa server (no clean shutdown), as a crash would."""
        if self._rasa_proc is not None:
            os.killpg(self._rasa_proc.popen.pid, signal.SIGKILL)
            self._rasa_proc.popen.wait(STOP_TIMEOUT_S)
            self._rasa_proc.stop()

    def stop_actions(self) -> None:
        """Stop only the action server (the Rasa server keeps running)."""
        if self._actions is not None:
            self._actions.stop()

    def stop(self) -> None:
        """Stop both servers (safe to call twice)."""
        for process in (self._rasa_proc, self._actions):
            if process is not None:
                process.stop()
        self._rasa_proc = self._actions = None

    def __enter__(self) -> RasaStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


@contextmanager
def rasa_servers(
    credentials: Mapping[str, Any], workdir: Path, **options: Any
) -> Iterator[RasaStack]:
    """``with rasa_servers({...}, tmp) as stack: stack.base_url`` - started and stopped."""
    with RasaStack(credentials, workdir, **options) as stack:
        yield stack
