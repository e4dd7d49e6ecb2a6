"""nginx's public port forwards only the web page, socket.io and the Telegram webhook.

Read from the rendered configuration (tests/scale/test_nginx_config.py has nginx itself accept
it where nginx is installed): every ``location`` of the public server block, and where it goes.
"""

from __future__ import annotations

import re
from pathlib import Path

from deploy.cluster import render_nginx_config

PUBLIC, ACTIONS, TOOLS = 18081, 18082, 18083


def _server_blocks(text: str) -> dict[int, str]:
    """Each ``server { ... }`` block by the port it listens on."""
    blocks = {}
    for match in re.finditer(r"\n    server \{\n(.*?)\n    \}\n", text, re.S):
        port = re.search(r"listen 127\.0\.0\.1:(\d+);", match.group(1))
        assert port, match.group(1)
        blocks[int(port.group(1))] = match.group(1)
    return blocks


def _locations(block: str) -> dict[str, str]:
    """``location`` -> what it does (the proxy_pass target, or the ``return``)."""
    found = {}
    for match in re.finditer(r"location ([^{]+?) \{(.*?)\}", block, re.S):
        body = match.group(2)
        target = re.search(r"proxy_pass (\S+);", body) or re.search(r"(return \d+);", body)
        assert target, body
        found[match.group(1).strip()] = target.group(1)
    return found


def _render(tmp_path: Path, web_port: int | None) -> str:
    return render_nginx_config(
        listen=PUBLIC,
        actions_listen=ACTIONS,
        tools_listen=TOOLS,
        rasa_ports=[15005, 15006],
        action_ports=[15055],
        web_port=web_port,
        error_log=str(tmp_path / "error.log"),
        access_log=str(tmp_path / "access.log"),
        run_as_root=False,
    )


def test_the_public_port_serves_only_the_page_socketio_and_the_telegram_webhook(
    tmp_path: Path,
) -> None:
    public = _locations(_server_blocks(_render(tmp_path, 18000))[PUBLIC])
    assert public == {
        "/socket.io/": "http://rasa_socketio",
        "= /webhooks/telegram/webhook": "http://rasa_rest",
        "/webhooks/": "return 404",
        "= /health": "http://rasa_rest/",
        "/": "http://web_page",
    }


def test_the_rest_channel_is_only_on_the_loopback_tools_port(tmp_path: Path) -> None:
    blocks = _server_blocks(_render(tmp_path, None))
    assert set(blocks) == {PUBLIC, ACTIONS, TOOLS}
    assert "/webhooks/rest/" not in blocks[PUBLIC]
    assert _locations(blocks[TOOLS])["/webhooks/rest/"] == "http://rasa_rest"
    assert _locations(blocks[PUBLIC])["/"] == "return 404"
