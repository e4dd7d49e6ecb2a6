"""Start the real action server and Rasa server on free ports for end-to-end tests.

``RasaStack(credentials, workdir)`` writes a credentials.yml from the dict, an endpoints.yml with
the action server and the project's tracker store on one SQLite database (``database_url``,
also the journal's ``DATABASE_URL``) in ``workdir``, starts both servers from the repo
root with the trained model, waits until they answer, and stops them on ``stop()`` (or at the end
of a ``with`` block). ``restart_rasa()`` restarts the Rasa server on the same port and tracker
store, which is how a test proves conversations survive a restart.

Used by the channel, web and Telegram tests; the processes' output goes to log files in
``workdir`` and the tail of a log is shown when a server fails to start. The process plumbing
(free ports, the model, the environment, starting and stopping) is deploy/processes.py's.

Both servers listen on 127.0.0.1 and are locked as deployed: Rasa sends a fresh
``SECURE_BASE_ACTION_TOKEN`` to the action server, and a REST request needs
``stack.rest_headers`` (``Authorization: Bearer <stack.rest_token>``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from deploy.processes import (
    ServerProcess,
    action_endpoint,
    actions_command,
    find_model,
    free_port,
    rasa_command,
    rest_headers,
    server_env,
)


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
                    "action_endpoint": action_endpoint(self.action_port),
                    "tracker_store": {
                        "type": "bot.journal.tracker_store.ErasingSQLTrackerStore",
                        "url": self.database_url,
                    },
                },
                sort_keys=False,
            )
        )
        self.rasa_args = list(rasa_args)
        self.env = server_env(
            {
                # Nothing under the repo's var/ is touched by a test run.
                "DATABASE_URL": self.database_url,
                "SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32),
                "SECURE_BASE_SESSION_SECRET": secrets.token_urlsafe(32),
                "SECURE_BASE_REST_TOKEN": secrets.token_urlsafe(32),
                "SECURE_BASE_ACTION_TOKEN": secrets.token_urlsafe(32),
            },
            env or {},
        )
        self._actions: ServerProcess | None = None
        self._rasa_proc: ServerProcess | None = None

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
        return rest_headers(self.rest_token)

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def _start_rasa(self) -> None:
        args = rasa_command(
            self.model, self.rasa_port, self.credentials_file, self.endpoints_file, self.rasa_args
        )
        self._rasa_proc = ServerProcess.launch(
            "rasa server", args, self.env, self.workdir / "rasa.log"
        )
        self._rasa_proc.wait_until_up(f"{self.base_url}/")

    def start(self) -> RasaStack:
        """Start both servers and wait until they answer; returns self."""
        # As `make run` does: the journal's schema first (Rasa adds its own `events` table).
        from bot.journal.db import dispose_engines, upgrade

        upgrade(self.database_url)
        dispose_engines(self.database_url)
        self._actions = ServerProcess.launch(
            "action server",
            actions_command(self.action_port),
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
            self._rasa_proc.kill()

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
