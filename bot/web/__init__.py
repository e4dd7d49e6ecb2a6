"""A tiny static server for the chat page (``python -m bot.web --port 8000``).

The page, its script and the rasa-webchat bundle are all served from this project, never from a
CDN. The Content-Security-Policy lets the page talk only to itself and to the Rasa socket.io
server; it also blocks the web-font stylesheet the widget's bundle imports from a public CDN, so
nothing on the page waits on the internet (the page uses system fonts).

``/safety`` is the published crisis protocol, ``docs/crisis-protocol.md`` rendered into
``web/safety.html`` by ``bot.web.markdown`` (escaped; read on each request, like the files).

``/export/<token>`` hands out a data export once: the bot's export action stores it in the
journal database with a random token (only its hash is kept) and sends the page a link; the
first GET within ten minutes downloads the file and deletes it. The token is the proof that the
request comes from the chat session it was sent to; any later or unknown request gets 410.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from bot.web import markdown

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_WEB_ROOT = PROJECT_ROOT / "web"
SOCKET_URL_ENV = "SECURE_BASE_SOCKET_URL"
DEFAULT_SOCKET_URL = "http://localhost:5005"
PROTOCOL_PATH = PROJECT_ROOT / "docs" / "crisis-protocol.md"
SAFETY_PATH = "/safety"
SAFETY_TEMPLATE = "safety.html"
_PROTOCOL_MARK = "<!-- protocol -->"

# URL path -> (file under the web root, content type). Nothing else is served.
FILES: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/static/page.css": ("static/page.css", "text/css; charset=utf-8"),
    "/static/page.js": ("static/page.js", "text/javascript; charset=utf-8"),
    "/static/favicon.svg": ("static/favicon.svg", "image/svg+xml"),
    "/vendor/rasa-webchat.js": (
        "node_modules/rasa-webchat/lib/index.js",
        "text/javascript; charset=utf-8",
    ),
}
_VENDOR_HINT = "The chat widget is not installed: run `npm ci --prefix web`."
EXPORT_PREFIX = "/export/"
_EXPORT_GONE = (
    b'This download link has expired or was already used. Ask the bot "export my data" '
    b"in the chat for a new one.\n"
)
_EXPORT_UNAVAILABLE = b"Your data cannot be fetched right now; please try again in a moment.\n"


def _take_export(token: str) -> tuple[str, str] | None:
    """The export behind ``token`` (deleted as it is read), or None; raises JournalUnavailable."""
    # Imported here: the page itself must start (and be tested) without the journal's modules.
    from bot.journal import repository, session_scope

    with session_scope() as session:
        return repository.take_pending_export(session, token)


@dataclass(frozen=True)
class PageConfig:
    """What the page needs to know at run time, served as ``/config.js``."""

    socket_url: str = DEFAULT_SOCKET_URL
    socket_path: str = "/socket.io/"
    storage: str = "session"  # the widget's copy of the chat is gone when the tab closes

    def __post_init__(self) -> None:
        parts = urlsplit(self.socket_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"socket URL must be http(s)://host[:port], got {self.socket_url!r}")
        if self.storage not in ("session", "local"):
            raise ValueError(f"storage must be 'session' or 'local', got {self.storage!r}")

    def script(self) -> bytes:
        settings = {
            "socketUrl": self.socket_url,
            "socketPath": self.socket_path,
            "storage": self.storage,
        }
        return f"window.SECURE_BASE_CONFIG = {json.dumps(settings)};\n".encode()

    def content_security_policy(self) -> str:
        parts = urlsplit(self.socket_url)
        ws_scheme = "wss" if parts.scheme == "https" else "ws"
        connect = f"'self' {parts.scheme}://{parts.netloc} {ws_scheme}://{parts.netloc}"
        return (
            "default-src 'none'; script-src 'self'; "
            # The widget injects its CSS as <style> tags; its @import of a CDN font is blocked.
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            f"connect-src {connect}; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )


def safety_page(web_root: Path = DEFAULT_WEB_ROOT, protocol: Path = PROTOCOL_PATH) -> bytes:
    """The ``/safety`` page: the crisis protocol rendered into its template (OSError, ValueError)."""
    template = (web_root / SAFETY_TEMPLATE).read_text(encoding="utf-8")
    if _PROTOCOL_MARK not in template:
        raise ValueError(f"{SAFETY_TEMPLATE} has no {_PROTOCOL_MARK} line")
    body = markdown.render(protocol.read_text(encoding="utf-8"))
    return template.replace(_PROTOCOL_MARK, body, 1).encode("utf-8")


def _handler(
    web_root: Path, config: PageConfig, protocol: Path = PROTOCOL_PATH
) -> type[BaseHTTPRequestHandler]:
    csp = config.content_security_policy()
    config_js = config.script()

    class PageHandler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "SecureBaseWeb"

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            cache: str,
            disposition: str | None = None,
        ) -> None:
            self.send_response(status)
            if disposition is not None:
                self.send_header("Content-Disposition", disposition)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _send_export(self, token: str) -> None:
            from bot.journal import JournalUnavailable

            text = "text/plain; charset=utf-8"
            if self.command != "GET":
                # HEAD must not spend the single use.
                self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"Use GET.\n", text, "no-store")
                return
            try:
                found = _take_export(token)
            except JournalUnavailable:
                self._send(HTTPStatus.SERVICE_UNAVAILABLE, _EXPORT_UNAVAILABLE, text, "no-store")
                return
            if found is None:
                self._send(HTTPStatus.GONE, _EXPORT_GONE, text, "no-store")
                return
            filename, body = found
            self._send(
                HTTPStatus.OK,
                body.encode("utf-8"),
                "application/json; charset=utf-8",
                "no-store",
                disposition=f'attachment; filename="{filename}"',
            )

        def _send_safety_page(self) -> None:
            try:
                body = safety_page(web_root, protocol)
            except (OSError, ValueError) as error:
                logger.error("web: the crisis protocol page cannot be built (%s)", error)
                self._send(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    b"Missing file.\n",
                    "text/plain; charset=utf-8",
                    "no-store",
                )
                return
            self._send(HTTPStatus.OK, body, "text/html; charset=utf-8", "no-cache")

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith(EXPORT_PREFIX):
                self._send_export(path[len(EXPORT_PREFIX) :])
                return
            if path == SAFETY_PATH:
                self._send_safety_page()
                return
            if path == "/config.js":
                self._send(HTTPStatus.OK, config_js, "text/javascript; charset=utf-8", "no-cache")
                return
            entry = FILES.get(path)
            if entry is None:
                self._send(
                    HTTPStatus.NOT_FOUND, b"Not found\n", "text/plain; charset=utf-8", "no-store"
                )
                return
            relative, content_type = entry
            try:
                body = (web_root / relative).read_bytes()
            except FileNotFoundError:
                hint = _VENDOR_HINT if relative.startswith("node_modules") else "Missing file."
                logger.error("web: %s is missing under %s", relative, web_root)
                self._send(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    hint.encode() + b"\n",
                    "text/plain; charset=utf-8",
                    "no-store",
                )
                return
            # Revalidate everything: the files are small and change with each release.
            self._send(HTTPStatus.OK, body, content_type, "no-cache")

        def do_HEAD(self) -> None:
            self.do_GET()

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("web: " + format, *args)

    return PageHandler


def create_server(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    web_root: Path = DEFAULT_WEB_ROOT,
    config: PageConfig | None = None,
    protocol: Path = PROTOCOL_PATH,
) -> ThreadingHTTPServer:
    """A ready (bound, not yet serving) HTTP server for the page; port 0 picks a free port."""
    if config is None:
        config = PageConfig(socket_url=os.environ.get(SOCKET_URL_ENV) or DEFAULT_SOCKET_URL)
    server = ThreadingHTTPServer((host, port), _handler(Path(web_root), config, Path(protocol)))
    server.daemon_threads = True
    return server
