"""Browser-test fixtures: the real servers, the page server and Debian's Chromium via Playwright.

Playwright must not download browsers here: it drives /usr/bin/chromium (apt package
``chromium``) with the flags that work in a container without a display.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.web import PageConfig, create_server
from deploy.processes import REPO_ROOT, free_port
from tests.e2e.servers import RasaStack

CHROMIUM = os.environ.get("SECURE_BASE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"


class Site:
    """The running page and Rasa stack the browser talks to."""

    def __init__(self, page_url: str, stack: RasaStack) -> None:
        self.page_url = page_url
        self.stack = stack


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    web_port = free_port()
    origin = f"http://127.0.0.1:{web_port}"
    credentials = {
        "bot.channels.socketio.SafeSocketIOInput": {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
            "cors_allowed_origins": [origin],
        }
    }
    workdir = tmp_path_factory.mktemp("web")
    # --cors as `make run` passes it: the channel must work with and without it.
    rasa_args = ["--enable-api", "--cors", origin]
    with RasaStack(credentials, workdir, rasa_args=rasa_args) as stack:
        server = create_server("127.0.0.1", web_port, config=PageConfig(socket_url=stack.base_url))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Site(f"{origin}/", stack)
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR
