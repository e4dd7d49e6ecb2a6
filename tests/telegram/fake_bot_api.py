"""A fake Telegram Bot API server for tests: Telegram's servers cannot be reached from here.

It listens on a loopback port in a thread of its own, answers the methods our channel uses with
``{"ok": true, "result": ...}`` shaped like Telegram's, records every call for assertions, and
refuses what Telegram refuses (a wrong token, callback_data over 64 bytes, HTML it cannot parse,
an empty or too long text), so a test fails where the real API would.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

BOT_ID = 7000000001
BOT_USERNAME = "secure_base_test_bot"
# Fields that Telegram reads as JSON when they arrive as form fields.
_JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "entities")
_ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
}


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    status: int = 200
    result: Any = None


class _TelegramHtml(HTMLParser):
    """Telegram's HTML rules, roughly: known tags only, properly nested, entities escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None
        self.visible: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = self.error or f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'unmatched end tag "{tag}"'
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


_BARE_AMP = re.compile(r"&(?!(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);)")
_BARE_LT = re.compile(r"<(?!/?[a-zA-Z][\w-]*(?:\s[^<>]*)?>)")


def _check_html(text: str) -> tuple[str | None, str]:
    """(error or None, the text a reader sees) for a parse_mode=HTML message."""
    if _BARE_AMP.search(text):
        return "unsupported entity (escape & as &amp;)", text
    if _BARE_LT.search(text):
        return "unsupported start tag (escape < as &lt;)", text
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.stack and parser.error is None:
        parser.error = f'can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    return parser.error, "".join(parser.visible)


class _Refusal(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class FakeBotApi:
    """The fake server. ``start()`` it, point the channel at ``url``, read ``calls()``."""

    def __init__(self, token: str, port: int | None = None) -> None:
        self.token = token
        self.port = port or 0
        self._calls: list[Call] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._failures: dict[str, list[_Refusal]] = {}
        self._ids = itertools.count(100)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.webhook: dict[str, Any] = {}

    @property
    def url(self) -> str:
        """The base URL to give the channel as TELEGRAM_API_URL."""
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeBotApi:
        """Listen on the port (a free one if none was given) and return once it accepts."""
        ready = threading.Event()
        errors: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                app = web.Application(client_max_size=60 * 1024 * 1024)
                app.router.add_route("*", "/bot{token}/{method}", self._handle)
                self._runner = web.AppRunner(app, access_log=None)
                self._loop.run_until_complete(self._runner.setup())
                site = web.TCPSite(self._runner, "127.0.0.1", self.port)
                self._loop.run_until_complete(site.start())
                server = site._server  # aiohttp does not expose the bound port otherwise
                assert server is not None
                self.port = int(server.sockets[0].getsockname()[1])
            except BaseException as exc:  # surfaced in start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-bot-api", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        """Stop listening and end the thread."""
        loop, runner = self._loop, self._runner
        if loop is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(30)
        loop.close()
        self._loop = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests use -------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """The calls received so far (of one method, if given), oldest first."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        """Forget the calls received so far."""
        with self._lock:
            self._calls.clear()

    def sent_to(self, chat_id: int | str) -> list[Call]:
        """The successful calls addressed to one chat (sendMessage, sendDocument, ...)."""
        return [
            c
            for c in self.calls()
            if str(c.params.get("chat_id")) == str(chat_id) and c.status == 200
        ]

    def wait_for(
        self, predicate: Callable[[list[Call]], bool], timeout: float = 60.0
    ) -> list[Call]:
        """Block until ``predicate(calls)`` holds; raises TimeoutError with what arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self._calls)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    methods = [c.method for c in self._calls]
                    raise TimeoutError(f"condition not met; calls so far: {methods}")
                self._changed.wait(remaining)
            return list(self._calls)

    def fail_next(
        self, method: str, status: int, description: str, retry_after: int | None = None
    ) -> None:
        """Make the next call of ``method`` fail the way Telegram would."""
        with self._lock:
            self._failures.setdefault(method, []).append(_Refusal(status, description, retry_after))

    # -- the server -----------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise _Refusal(400, "Bad Request: the request body must be an object")
            params.update(body)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
            for key in _JSON_FIELDS:
                if isinstance(params.get(key), str):
                    try:
                        params[key] = json.loads(params[key])
                    except ValueError as exc:
                        raise _Refusal(400, f"Bad Request: can't parse {key} JSON object") from exc
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        status = 200
        result: Any = None
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        try:
            if request.match_info["token"] != self.token:
                raise _Refusal(401, "Unauthorized")
            params, files = await self._params(request)
            with self._lock:
                queued = self._failures.get(method)
                refusal = queued.pop(0) if queued else None
            if refusal is not None:
                raise refusal
            result = self._answer(method, params, files)
            payload: dict[str, Any] = {"ok": True, "result": result}
        except _Refusal as exc:
            status = exc.status
            payload = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.retry_after is not None:
                payload["parameters"] = {"retry_after": exc.retry_after}
        with self._changed:
            self._calls.append(Call(method, params, files, status, result))
            self._changed.notify_all()
        return web.json_response(payload, status=status)

    def _message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._ids),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Secure Base"},
            "chat": {"id": int(chat_id), "type": "private"},
            "date": int(time.time()),
            **content,
        }

    def _answer(self, method: str, params: dict[str, Any], files: dict[str, Any]) -> Any:
        handler = getattr(self, "_m_" + method, None)
        if handler is None:
            raise _Refusal(404, "Not Found: method not found")
        return handler(params, files)

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _Refusal(400, "Bad Request: chat_id is empty")
        try:
            int(chat_id)
        except (TypeError, ValueError) as exc:
            raise _Refusal(400, "Bad Request: chat not found") from exc
        return chat_id

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise _Refusal(400, "Bad Request: object expected as reply markup")
        for row in rows:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise _Refusal(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise _Refusal(400, "Bad Request: BUTTON_DATA_INVALID")

    def _m_getMe(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Secure Base",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        url = params.get("url")
        if not url:
            raise _Refusal(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.get("secret_token")
        if secret is not None and not (
            1 <= len(secret) <= 256 and all(ch.isalnum() or ch in "_-" for ch in secret)
        ):
            raise _Refusal(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = dict(params)
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
            "allowed_updates": self.webhook.get("allowed_updates", []),
        }

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            isinstance(c, dict) and c.get("command") and c.get("description") for c in commands
        ):
            raise _Refusal(400, "Bad Request: can't parse commands JSON object")
        return True

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _Refusal(400, "Bad Request: message text is empty")
        visible = text
        if str(params.get("parse_mode", "")).upper() == "HTML":
            error, visible = _check_html(text)
            if error:
                raise _Refusal(400, f"Bad Request: can't parse entities: {error}")
        if len(visible) > 4096:
            raise _Refusal(400, "Bad Request: message is too long")
        self._check_markup(params.get("reply_markup"))
        content: dict[str, Any] = {"text": visible}
        if params.get("reply_markup"):
            content["reply_markup"] = params["reply_markup"]
        return self._message(chat_id, **content)

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        if "document" not in files:
            raise _Refusal(400, "Bad Request: there is no document in the request")
        filename, content = files["document"]
        return self._message(
            chat_id,
            document={
                "file_id": f"doc{next(self._ids)}",
                "file_unique_id": f"u{next(self._ids)}",
                "file_name": filename,
                "mime_type": "application/json",
                "file_size": len(content),
            },
        )

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        if "photo" not in files and not isinstance(params.get("photo"), str):
            raise _Refusal(400, "Bad Request: there is no photo in the request")
        if len(str(params.get("caption", ""))) > 1024:
            raise _Refusal(400, "Bad Request: message caption is too long")
        return self._message(
            chat_id, photo=[{"file_id": "p1", "file_unique_id": "p1", "width": 1, "height": 1}]
        )

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self._chat_id(params)
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise _Refusal(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _m_pinChatMessage(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        self._chat_id(params)
        if not params.get("message_id"):
            raise _Refusal(400, "Bad Request: message identifier is not specified")
        return True

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        if not params.get("message_id"):
            raise _Refusal(400, "Bad Request: message identifier is not specified")
        self._check_markup(params.get("reply_markup"))
        return self._message(chat_id, text="(edited)", reply_markup=params.get("reply_markup"))
