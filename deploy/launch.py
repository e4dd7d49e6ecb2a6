"""Run Secure Base as several Rasa processes and action servers behind nginx, until Ctrl-C.

    .venv/bin/python -m deploy.launch --database-url postgresql://postgres@127.0.0.1/secure_base \\
        --rasa 2 --actions 2 --port 8080 [--redis redis://127.0.0.1:6379/1] [--web-port 8000]

Run from the repository root. The database must be PostgreSQL (every process writes to it) and
must exist; the journal's schema and Rasa's events table are created if missing.
``SECURE_BASE_ID_SECRET`` must be set, the same for every process: the first start records a
keyed fingerprint of it in the database, and a later start with another secret is refused.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bot.journal.errors import IdSecretMismatch
from bot.secrets import SecretError
from deploy.cluster import LOCK_STORES, Cluster, Settings


def _redis_parts(url: str) -> tuple[str, int, int]:
    parts = urlsplit(url)
    if parts.scheme != "redis" or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected redis://host:port/db, got {url!r}")
    db = parts.path.strip("/") or "1"
    if not db.isdigit():
        raise argparse.ArgumentTypeError(f"the Redis db must be a number, got {db!r}")
    return parts.hostname, parts.port or 6379, int(db)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deploy.launch", description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="PostgreSQL URL shared by every process (default: $DATABASE_URL)",
    )
    parser.add_argument("--rasa", type=int, default=2, help="Rasa server processes (2)")
    parser.add_argument("--actions", type=int, default=2, help="action servers (2)")
    parser.add_argument("--port", type=int, default=8080, help="where nginx listens (8080)")
    parser.add_argument(
        "--redis",
        type=_redis_parts,
        default=_redis_parts(os.environ.get("SECURE_BASE_REDIS_URL", "redis://127.0.0.1:6379/1")),
        help="the lock store's Redis (default redis://127.0.0.1:6379/1)",
    )
    parser.add_argument("--lock-store", choices=sorted(LOCK_STORES), default="atomic")
    parser.add_argument("--model", type=Path, help="trained model (default: models/*.tar.gz)")
    parser.add_argument("--web-port", type=int, help="also serve the chat page behind nginx")
    parser.add_argument("--workdir", type=Path, help="config files and logs (default: a temp dir)")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("--database-url (or DATABASE_URL) must be a postgresql:// URL")
    return args


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    args = parse_args(argv)
    host, port, db = args.redis
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="secure-base-cluster-"))
    settings = Settings(
        database_url=args.database_url,
        workdir=workdir,
        rasa_processes=args.rasa,
        action_servers=args.actions,
        redis_host=host,
        redis_port=port,
        redis_db=db,
        lock_store=args.lock_store,
        port=args.port,
        model=args.model,
        web_port=args.web_port,
    )
    try:
        cluster = Cluster(settings)
        # Before any process starts: a second secret would file users under other pseudonyms.
        cluster.prepare_database()
    except (SecretError, IdSecretMismatch) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"Starting {args.actions} action servers and {args.rasa} Rasa processes...", flush=True)
    cluster.start()
    if not os.environ.get("SECURE_BASE_REST_TOKEN"):
        # Generated for this run: kept where only this user can read it, never printed.
        token_file = workdir / "rest_token"
        token_file.touch(mode=0o600)
        token_file.write_text(cluster.env["SECURE_BASE_REST_TOKEN"] + "\n", encoding="ascii")
    print(
        f"\nSecure Base is running behind nginx. Ctrl-C stops it.\n"
        f"  public port: {cluster.base_url} (web page, /socket.io/, /webhooks/telegram/webhook)\n"
        f"  REST:        POST {cluster.webhook_url} (loopback only; headers "
        f"'Authorization: Bearer <SECURE_BASE_REST_TOKEN>', X-Secure-Base-Sender: <id>)\n"
        + (
            ""
            if os.environ.get("SECURE_BASE_REST_TOKEN")
            else "               this run's REST token is in "
            f"{workdir / 'rest_token'} (set SECURE_BASE_REST_TOKEN to choose it)\n"
        )
        + f"  socket.io:   {cluster.base_url}/socket.io/\n"
        f"  health:      {cluster.base_url}/health\n"
        + (f"  web page:    {cluster.base_url}/\n" if args.web_port else "")
        + f"  Rasa:        {', '.join(str(p) for p in cluster.rasa_ports)} (loopback ports)\n"
        f"  actions:     {', '.join(str(p) for p in cluster.action_ports)}\n"
        f"  config, logs: {workdir}\n",
        flush=True,
    )
    try:
        while not stopping:
            for index, process in enumerate(cluster.rasa):
                if process is not None and process.popen.poll() is not None:
                    # A supervisor (systemd, Kubernetes) restarts a dead process; so do we.
                    print(f"Rasa process {index} exited; starting it again", flush=True)
                    cluster.start_rasa(index)
            time.sleep(1)
    finally:
        print("Stopping...", flush=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
