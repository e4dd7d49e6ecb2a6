"""Start Secure Base as several processes on one machine: the shape of a scaled-out deployment.

``Cluster(settings).start()`` starts N action servers and M Rasa server processes on free
loopback ports, all on one PostgreSQL database (tracker store and journal) and one Redis lock
store, and nginx in front of them (deploy/nginx.conf.template). Each process can be killed,
stopped and started again on its own port, which is what the fault tests do.

Every process listens on 127.0.0.1. nginx's public port serves only the web page, socket.io and
the Telegram webhook; the REST channel is on a second loopback port (``webhook_url``) and needs
``rest_headers``. The action servers run actions only for callers with the action token, which
the Rasa processes send. Both tokens (and the secrets) are generated per run unless set.

Used by ``python -m deploy.launch`` (operators, demos) and by tests/scale and tests/faults. The
process plumbing (free ports, the trained model, a supervised child process) is
deploy/processes.py's, the one harness the tests and the benchmark use too.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from deploy.processes import (
    REPO_ROOT,
    START_TIMEOUT_S,
    ServerFailed,
    ServerProcess,
    action_endpoint,
    actions_command,
    find_model,
    free_port,
    rasa_command,
    rest_headers,
    server_env,
    tail,
    web_command,
)

TEMPLATE = Path(__file__).with_name("nginx.conf.template")
LOCK_STORES = {
    # Ours: atomic Redis scripts (bot/stores/redis_lock.py).
    "atomic": "bot.stores.redis_lock.AtomicRedisLockStore",
    # Rasa's own, with the read-then-write race of Rasa issue 9213 (kept to measure it).
    "stock": "redis",
}


@dataclass
class Settings:
    """What to start. ``database_url`` must be shared by every process (PostgreSQL)."""

    database_url: str
    workdir: Path
    rasa_processes: int = 2
    action_servers: int = 2
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 1
    lock_store: str = "atomic"
    lock_key_prefix: str | None = None
    port: int | None = None
    model: Path | None = None
    web_port: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    rasa_args: Sequence[str] = ()

    def __post_init__(self) -> None:
        if self.lock_store not in LOCK_STORES:
            raise ValueError(f"lock_store must be one of {sorted(LOCK_STORES)}")
        if self.rasa_processes < 1 or self.action_servers < 1:
            raise ValueError("at least one Rasa process and one action server are needed")


def nginx_binary() -> str:
    """The nginx executable (Debian: ``apt-get install nginx``)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        raise FileNotFoundError(
            "nginx is not installed: apt-get install nginx (Debian/Ubuntu), then try again"
        )
    return found


def render_nginx_config(
    *,
    listen: int,
    actions_listen: int,
    tools_listen: int,
    rasa_ports: Sequence[int],
    action_ports: Sequence[int],
    web_port: int | None,
    error_log: str,
    access_log: str,
    run_as_root: bool,
) -> str:
    """The template with every ``@@NAME@@`` filled in; an unfilled name is an error."""

    def servers(ports: Sequence[int], set_aside: str) -> str:
        return "\n".join(f"        server 127.0.0.1:{port} {set_aside};" for port in ports)

    web_upstream = (
        f"    upstream web_page {{\n        server 127.0.0.1:{web_port};\n    }}"
        if web_port
        else ""
    )
    web_location = (
        "        location / {\n            proxy_pass http://web_page;\n        }"
        if web_port
        else "        location / {\n            return 404;\n        }"
    )
    values = {
        # As root, nginx would drop its workers to an unprivileged user who cannot write the
        # temporary directories under the prefix; run them as the user who started nginx.
        "USER_LINE": "user root root;" if run_as_root else "",
        "ERROR_LOG": error_log,
        "ACCESS_LOG": access_log,
        # A dead Rasa process is set aside for 5 s after one refused connection, so the
        # consistent hash moves its conversations to a live one at once.
        "RASA_SERVERS": servers(rasa_ports, "max_fails=1 fail_timeout=5s"),
        # Action servers are never set aside: once both had refused a connection, nginx answered
        # "no live upstreams" for 5 s after they were back, and users got the apology meanwhile
        # (seen in CI). A refused loopback connection costs nothing; nginx tries the next one.
        "ACTION_SERVERS": servers(action_ports, "max_fails=0"),
        "WEB_UPSTREAM": web_upstream,
        "WEB_LOCATION": web_location,
        "LISTEN": f"127.0.0.1:{listen}",
        "ACTIONS_LISTEN": f"127.0.0.1:{actions_listen}",
        "TOOLS_LISTEN": f"127.0.0.1:{tools_listen}",
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    if "@@" in text:
        start = text.index("@@")
        raise ValueError(f"{TEMPLATE}: unfilled placeholder near {text[start : start + 30]!r}")
    return text


class Cluster:
    """Action servers, Rasa processes and nginx; each part can be stopped and started alone."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workdir = Path(settings.workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.model = settings.model or find_model()
        self.port = settings.port or free_port()
        self.actions_port = free_port()
        self.tools_port = free_port()
        self.rasa_ports = [free_port() for _ in range(settings.rasa_processes)]
        self.action_ports = [free_port() for _ in range(settings.action_servers)]
        self.lock_key_prefix = settings.lock_key_prefix or f"sb{secrets.token_hex(6)}"
        # One set of secrets for every process: a socket.io session signed by one Rasa process
        # must verify on another, and the journal's pseudonyms must match across action servers.
        self.env = server_env(
            {
                # This checkout's code, even where the venv's editable install points at another.
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
                ),
                "DATABASE_URL": settings.database_url,
                # Rasa listens with a backlog of 100. A burst of new connections from nginx beyond
                # that overflows the accept queue, and the kernel resets them some seconds later:
                # 502s under load (measured: 46 of 2000 messages before this line).
                "SANIC_BACKLOG": os.environ.get("SANIC_BACKLOG", "1024"),
                # Rasa applies its one-hour response timeout only with --enable-api; without it
                # Sanic answers 503 after 60 s (measured under the full load with Rasa's lock
                # store). The order that keeps users away from a 5xx: the lock store gives up
                # waiting at 120 s (the fail-safe apologises), Sanic at 140 s, nginx at 150 s.
                "SANIC_RESPONSE_TIMEOUT": os.environ.get("SANIC_RESPONSE_TIMEOUT", "140"),
                # No generated default (see check_id_secret): a new secret per run would orphan
                # every journal row of the previous run and make erasure miss them.
                "SECURE_BASE_SESSION_SECRET": os.environ.get("SECURE_BASE_SESSION_SECRET")
                or secrets.token_urlsafe(32),
                "SECURE_BASE_REST_TOKEN": os.environ.get("SECURE_BASE_REST_TOKEN")
                or secrets.token_urlsafe(32),
                "SECURE_BASE_ACTION_TOKEN": os.environ.get("SECURE_BASE_ACTION_TOKEN")
                or secrets.token_urlsafe(32),
            },
            settings.env,
        )
        self.check_id_secret()
        self.credentials_file = self.workdir / "credentials.yml"
        self.endpoints_file = self.workdir / "endpoints.yml"
        self.nginx_conf = self.workdir / "nginx" / "nginx.conf"
        self.rasa: list[ServerProcess | None] = [None] * settings.rasa_processes
        self.actions: list[ServerProcess | None] = [None] * settings.action_servers
        self.nginx: ServerProcess | None = None
        self.web: ServerProcess | None = None

    # -- addresses -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """nginx, where users (and tests) send everything."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def tools_url(self) -> str:
        """nginx's loopback port for tools and tests (the REST channel)."""
        return f"http://127.0.0.1:{self.tools_port}"

    @property
    def webhook_url(self) -> str:
        """The REST channel, through nginx's loopback tools port (not the public one)."""
        return f"{self.tools_url}/webhooks/rest/webhook"

    @property
    def rest_headers(self) -> dict[str, str]:
        """What a REST request needs to be let in."""
        return rest_headers(self.env["SECURE_BASE_REST_TOKEN"])

    def rasa_url(self, index: int) -> str:
        """One Rasa process directly, bypassing nginx."""
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    # -- configuration files -------------------------------------------------------------------

    def lock_store_config(self) -> dict[str, Any]:
        settings = self.settings
        config: dict[str, Any] = {
            "type": LOCK_STORES[settings.lock_store],
            "url": settings.redis_host,
            "port": settings.redis_port,
            "db": settings.redis_db,
        }
        if settings.lock_store == "atomic":
            config["key_prefix"] = f"{self.lock_key_prefix}:"
            # Under overload a message waits for the earlier ones of its conversation; Rasa's
            # 60 s default turns a long wait into an apology. nginx waits 150 s.
            config["max_wait_seconds"] = 120
        else:
            config["key_prefix"] = self.lock_key_prefix  # Rasa's must be alphanumeric
        return config

    def write_config(self) -> None:
        origins = [self.base_url, f"http://localhost:{self.port}"]
        credentials = {
            "bot.channels.rest.SafeRestInput": None,
            "bot.channels.socketio.SafeSocketIOInput": {
                "user_message_evt": "user_uttered",
                "bot_message_evt": "bot_uttered",
                "session_persistence": True,
                "cors_allowed_origins": origins,
            },
        }
        endpoints = {
            # Through nginx: either action server may run any action, a dead one is skipped.
            "action_endpoint": action_endpoint(self.actions_port),
            "tracker_store": {
                "type": "bot.journal.tracker_store.ErasingSQLTrackerStore",
                "url": self.settings.database_url,
            },
            "lock_store": self.lock_store_config(),
        }
        self.credentials_file.write_text(yaml.safe_dump(credentials, sort_keys=False))
        self.endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False))
        nginx_dir = self.nginx_conf.parent
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (nginx_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        self.nginx_conf.write_text(
            render_nginx_config(
                listen=self.port,
                actions_listen=self.actions_port,
                tools_listen=self.tools_port,
                rasa_ports=self.rasa_ports,
                action_ports=self.action_ports,
                web_port=self.settings.web_port,
                error_log=str(nginx_dir / "error.log"),
                access_log=str(nginx_dir / "access.log"),
                run_as_root=os.geteuid() == 0,
            )
        )

    def check_id_secret(self) -> None:
        """Refuse to start without a valid ``SECURE_BASE_ID_SECRET`` (``SecretError``)."""
        from bot.journal.identity import ID_SECRET_ENV
        from bot.secrets import SecretError, check_secret

        value = self.env.get(ID_SECRET_ENV, "")
        if not value.strip():
            raise SecretError(
                f"{ID_SECRET_ENV} is not set: every process of a deployment must share one "
                "pseudonym secret; set it (the same value everywhere) and start again"
            )
        check_secret(ID_SECRET_ENV, value)

    def record_id_secret(self) -> None:
        """Record the secret's fingerprint, or refuse (``IdSecretMismatch``) if another is there."""
        from bot.journal import repository, session_scope
        from bot.journal.db import dispose_engines

        secret = self.env["SECURE_BASE_ID_SECRET"].strip().encode("utf-8")
        try:
            with session_scope(self.settings.database_url) as session:
                repository.check_id_secret(session, secret)
        finally:
            dispose_engines(self.settings.database_url)

    def prepare_database(self) -> None:
        """Create the journal's schema and Rasa's ``events`` table before any process starts.

        Several Rasa processes creating the table at the same moment collide, and the loser
        sleeps 5 s and tries again; doing it once here avoids that.
        """
        from rasa.core.tracker_store import SQLTrackerStore

        from bot.database import make_engine
        from bot.journal.db import dispose_engines, upgrade

        upgrade(self.settings.database_url)
        dispose_engines(self.settings.database_url)
        self.record_id_secret()
        engine = make_engine(self.settings.database_url)
        try:
            SQLTrackerStore.Base.metadata.create_all(engine)
        finally:
            engine.dispose()

    # -- processes -----------------------------------------------------------------------------

    def _spawn_actions(self, index: int) -> ServerProcess:
        args = actions_command(self.action_ports[index])
        log = self.workdir / f"actions-{index}.log"
        return ServerProcess.launch(f"action server {index}", args, self.env, log)

    def _spawn_rasa(self, index: int) -> ServerProcess:
        args = rasa_command(
            self.model,
            self.rasa_ports[index],
            self.credentials_file,
            self.endpoints_file,
            ["--cors", self.base_url, *self.settings.rasa_args],
        )
        log = self.workdir / f"rasa-{index}.log"
        return ServerProcess.launch(f"rasa server {index}", args, self.env, log)

    def start_actions(self, index: int) -> None:
        process = self._spawn_actions(index)
        self.actions[index] = process
        process.wait_until_up(f"http://127.0.0.1:{self.action_ports[index]}/health")

    def start_rasa(self, index: int) -> None:
        """Start (or start again) Rasa process ``index`` on its port and wait until it answers."""
        process = self._spawn_rasa(index)
        self.rasa[index] = process
        process.wait_until_up(f"{self.rasa_url(index)}/")

    def kill_rasa(self, index: int) -> None:
        """``kill -9`` a Rasa process: no clean shutdown, as a crash or the OOM killer does."""
        process = self.rasa[index]
        if process is None:
            return
        process.kill()
        self.rasa[index] = None

    def stop_rasa(self, index: int) -> None:
        process = self.rasa[index]
        if process is not None:
            process.stop()
            self.rasa[index] = None

    def stop_actions(self, index: int) -> None:
        process = self.actions[index]
        if process is not None:
            process.stop()
            self.actions[index] = None

    def _start_nginx(self) -> None:
        prefix = self.nginx_conf.parent
        args = [nginx_binary(), "-p", str(prefix), "-c", str(self.nginx_conf)]
        check = subprocess.run(
            [*args, "-t", "-q"], capture_output=True, text=True, timeout=30, check=False
        )
        if check.returncode != 0:
            raise ServerFailed(f"nginx rejected {self.nginx_conf}:\n{check.stderr}")
        self.nginx = ServerProcess.launch("nginx", args, self.env, prefix / "nginx.out")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.nginx.popen.poll() is not None:
                raise ServerFailed(f"nginx exited:\n{tail(prefix / 'error.log')}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # nginx answers; the upstreams are checked by their own waits
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise ServerFailed(f"nginx did not listen in time:\n{tail(prefix / 'error.log')}")

    def _start_web(self) -> None:
        port = self.settings.web_port
        args = web_command(port, self.base_url)
        self.web = ServerProcess.launch("web page", args, self.env, self.workdir / "web.log")
        self.web.wait_until_up(f"http://127.0.0.1:{port}/")

    def start(self) -> Cluster:
        """Start everything and wait until each part answers; returns self."""
        self.write_config()
        self.prepare_database()
        try:
            # Spawn all first so they load in parallel, then wait for each.
            self.actions = [self._spawn_actions(i) for i in range(len(self.actions))]
            self.rasa = [self._spawn_rasa(i) for i in range(len(self.rasa))]
            for index, process in enumerate(self.actions):
                process.wait_until_up(f"http://127.0.0.1:{self.action_ports[index]}/health")
            for index, process in enumerate(self.rasa):
                process.wait_until_up(f"{self.rasa_url(index)}/")
            if self.settings.web_port:
                self._start_web()
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every part (safe to call twice)."""
        parts = [self.nginx, self.web, *self.rasa, *self.actions]
        for process in parts:
            if process is not None:
                process.stop()
        self.nginx = self.web = None
        self.rasa = [None] * len(self.rasa)
        self.actions = [None] * len(self.actions)

    def logs(self) -> dict[str, Path]:
        """Every log file of this cluster, by part."""
        found = {p.stem: p for p in sorted(self.workdir.glob("*.log"))}
        for name in ("error", "access"):
            path = self.nginx_conf.parent / f"{name}.log"
            if path.exists():
                found[f"nginx-{name}"] = path
        return found

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


__all__ = ["Cluster", "Settings", "START_TIMEOUT_S", "REPO_ROOT", "render_nginx_config"]
