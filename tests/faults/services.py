"""Private PostgreSQL and Redis servers that a fault test may stop and start at will.

The machine's own PostgreSQL and Redis serve every other test running at the same time, so the
fault tests never stop them: they start their own, on free loopback ports, with their data in a
temporary directory that is removed afterwards. PostgreSQL refuses to run as root, so as root
the server runs as the ``postgres`` user (``runuser``) in a directory that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from deploy.processes import ServerProcess, free_port


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise FileNotFoundError(f"PostgreSQL's {name} is not installed (Debian: postgresql)")


class PrivatePostgres:
    """``initdb`` into a temporary directory, then ``pg_ctl`` start/stop on a free port."""

    def __init__(self) -> None:
        self.port = free_port()
        # Directly under /tmp: the postgres user cannot enter pytest's root-only directories.
        self.datadir = Path(tempfile.mkdtemp(prefix="sb-faults-pg-"))
        self.log = self.datadir.with_name(self.datadir.name + ".log")
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*self._as_user, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed:\n{result.stdout}\n{result.stderr}")

    def init(self) -> PrivatePostgres:
        self._run(
            _postgres_bin("initdb"), "-D", str(self.datadir), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        return self

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run(
            _postgres_bin("pg_ctl"), "start", "-D", str(self.datadir), "-w", "-t", "60",
            "-l", str(self.log), "-o", options,
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``fast`` ends client connections and shuts down cleanly; ``immediate`` is a crash."""
        self._run(_postgres_bin("pg_ctl"), "stop", "-D", str(self.datadir), "-w", "-m", mode)

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        return self.url(name)

    def destroy(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.datadir, ignore_errors=True)
        self.log.unlink(missing_ok=True)


class PrivateRedis:
    """``redis-server`` on a free port, no persistence; stop() and start() keep the port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process: ServerProcess | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", str(self.workdir)]
        self._process = ServerProcess.launch("redis", args, os.environ, self.workdir / "redis.log")
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=1) as client:
                    client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self._process.popen.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
