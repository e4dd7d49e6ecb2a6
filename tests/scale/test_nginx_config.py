"""The nginx template renders to a configuration nginx itself accepts (``nginx -t``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploy.cluster import nginx_binary, render_nginx_config


def _render(tmp_path: Path, web_port: int | None) -> str:
    return render_nginx_config(
        listen=18081,
        actions_listen=18082,
        tools_listen=18083,
        rasa_ports=[15005, 15006, 15007],
        action_ports=[15055, 15056],
        web_port=web_port,
        error_log=str(tmp_path / "error.log"),
        access_log=str(tmp_path / "access.log"),
        run_as_root=False,
    )


# nginx itself checks the config (`make nginx` installs it; `make unit` does not need it).
@pytest.mark.server
@pytest.mark.parametrize("web_port", [None, 18000])
def test_nginx_accepts_the_rendered_config(tmp_path: Path, web_port: int | None) -> None:
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True)
    conf = tmp_path / "nginx.conf"
    conf.write_text(_render(tmp_path, web_port))
    check = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_every_process_is_an_upstream_and_sessions_stick(tmp_path: Path) -> None:
    text = _render(tmp_path, None)
    for port in (15005, 15006, 15007):
        # once for REST, once for socket.io
        assert text.count(f"server 127.0.0.1:{port} ") == 2
    assert "hash $sb_node_key consistent;" in text
    assert 'Set-Cookie "sb_node=$sb_node_key' in text
    assert "hash $sb_rest_key consistent;" in text
    # Never send a POST (a user message) to a second process after the first got it.
    assert "non_idempotent" not in text
    assert "@@" not in text
