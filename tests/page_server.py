"""The real page server (``bot.web``) on a free port in this process, and plain HTTP requests to
it, for the tests of what it serves (the crisis protocol, the one-time export link)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from bot.web import PageConfig, create_server


@contextmanager
def page_server(**options: object) -> Iterator[str]:
    """``create_server`` (default ``PageConfig``, ``options`` passed on) serving in a thread; its
    base URL, e.g. ``http://127.0.0.1:40123``. Shut down on leaving."""
    server = create_server("127.0.0.1", 0, config=PageConfig(), **options)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http_get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one request; an HTTP error status is an answer, not raised."""
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
