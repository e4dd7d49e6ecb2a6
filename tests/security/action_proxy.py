"""A pass-through in front of the real action server that can hold one user's requests.

Rasa calls the action server while it holds that conversation's lock, so holding the call is
how a test makes "this user's earlier turn hangs" (a slow database, a stuck action) with the
real servers on both sides. Requests of every other sender are forwarded at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import aiohttp
from aiohttp import web

from deploy.processes import free_port

_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


class HoldingActionProxy:
    """``url`` forwards to ``target``; senders containing one of ``hold`` wait for ``release``."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.port = free_port()
        self.hold: set[str] = set()
        self.release = threading.Event()
        self.holding = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            sender = str(json.loads(body).get("sender_id", ""))
        except (ValueError, AttributeError):
            sender = ""
        if any(marker in sender for marker in self.hold):
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 300)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method, f"{self.target}{request.path_qs}", data=body, headers=headers
            ) as answer:
                return web.Response(
                    body=await answer.read(),
                    status=answer.status,
                    content_type=answer.content_type,
                )

    def start(self) -> HoldingActionProxy:
        started = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._forward)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            loop.run_until_complete(site.start())
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="action-proxy", daemon=True)
        self._thread.start()
        if not started.wait(30):
            raise RuntimeError("the action proxy did not start")
        return self

    def stop(self) -> None:
        self.release.set()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(30)

    def __enter__(self) -> HoldingActionProxy:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
