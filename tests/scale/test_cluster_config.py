"""The launcher's configuration, without starting anything: endpoints, channels, arguments."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import yaml

from deploy import launch
from deploy.cluster import Cluster, Settings


def _cluster(tmp_path: Path, **options) -> Cluster:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1/secure_base",
        workdir=tmp_path / "work",
        model=model,
        env={"SECURE_BASE_ID_SECRET": secrets.token_urlsafe(32)},
        **options,
    )
    cluster = Cluster(settings)
    cluster.write_config()
    return cluster


def test_every_process_shares_the_database_the_lock_store_and_the_secrets(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path, redis_port=6390, redis_db=3)
    endpoints = yaml.safe_load(cluster.endpoints_file.read_text())
    assert endpoints["tracker_store"] == {
        "type": "bot.journal.tracker_store.ErasingSQLTrackerStore",
        "url": "postgresql://postgres@127.0.0.1/secure_base",
    }
    lock = endpoints["lock_store"]
    assert lock["type"] == "bot.stores.redis_lock.AtomicRedisLockStore"
    assert (lock["url"], lock["port"], lock["db"]) == ("127.0.0.1", 6390, 3)
    assert endpoints["action_endpoint"]["url"] == f"http://127.0.0.1:{cluster.actions_port}/webhook"
    assert cluster.env["SECURE_BASE_SESSION_SECRET"] and cluster.env["SECURE_BASE_ID_SECRET"]
    assert int(cluster.env["SANIC_BACKLOG"]) > 100


def test_timeouts_fire_in_order_lock_then_sanic_then_nginx(tmp_path: Path) -> None:
    """A long wait must end in the fail-safe's apology (lock store), never in a 503 or 504."""
    cluster = _cluster(tmp_path)
    lock_wait = yaml.safe_load(cluster.endpoints_file.read_text())["lock_store"]["max_wait_seconds"]
    sanic = float(cluster.env["SANIC_RESPONSE_TIMEOUT"])
    nginx = cluster.nginx_conf.read_text()
    read_timeout = float(nginx.split("proxy_read_timeout ", 1)[1].split("s;", 1)[0])
    assert lock_wait < sanic < read_timeout


def test_channels_accept_the_nginx_origin(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path)
    credentials = yaml.safe_load(cluster.credentials_file.read_text())
    assert "bot.channels.rest.SafeRestInput" in credentials
    socketio = credentials["bot.channels.socketio.SafeSocketIOInput"]
    assert socketio["session_persistence"] is True
    assert cluster.base_url in socketio["cors_allowed_origins"]


def test_the_stock_store_gets_an_alphanumeric_prefix(tmp_path: Path) -> None:
    cluster = _cluster(tmp_path, lock_store="stock", lock_key_prefix="sbabc123")
    lock = yaml.safe_load(cluster.endpoints_file.read_text())["lock_store"]
    assert (lock["type"], lock["key_prefix"]) == ("redis", "sbabc123")


def test_settings_refuse_an_unknown_lock_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lock_store"):
        Settings(database_url="postgresql://x/y", workdir=tmp_path, lock_store="memory")


def test_launcher_needs_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit):
        launch.parse_args(["--database-url", "sqlite:////tmp/x.db"])
    args = launch.parse_args(
        ["--database-url", "postgresql://postgres@127.0.0.1/sb", "--redis", "redis://h:6390/4"]
    )
    assert args.redis == ("h", 6390, 4)
