"""The socket.io channel for the web page, with working persistence, origins and signed sessions.

Three things the stock ``SocketIOInput`` of Rasa 3.6 gets wrong for us:

* with ``session_persistence: true`` and python-socketio >= 5.10 it never delivers an answer,
  because ``AsyncServer.enter_room`` became a coroutine that it does not await (Rasa issue 13027);
* it accepts connections from any origin (``cors_allowed_origins=[]`` turns checking off);
* the client chooses its own session id, so anyone who learns or guesses an id can read and write
  that user's conversation.

Here the server issues every session id, as ``<id>.<signature>`` (HMAC-SHA256 with a server
secret). rasa-webchat stores the string it receives in ``session_confirm`` and sends it back
unchanged, so the unmodified widget carries the token. A reconnecting client that presents a
session id with a bad or missing signature gets a fresh session. The Rasa sender id (and the
socket.io room the answers go to) is ``web:`` plus the verified ``<id>`` part only, so a web
session can never name another channel's user (bot/sender_ids.py).

credentials.yml::

    bot.channels.socketio.SafeSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      cors_allowed_origins: ["http://localhost:8000", "http://127.0.0.1:8000"]
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import inspect
import json
import logging
import os
import secrets
import uuid
from collections.abc import Awaitable, Callable, Collection
from pathlib import Path
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import sender_ids
from bot.channels import failsafe
from bot.secrets import secret_from_env

logger = logging.getLogger(__name__)

SECRET_ENV = "SECURE_BASE_SESSION_SECRET"
DEFAULT_SECRET_FILE = failsafe.PROJECT_ROOT / "var" / "session_secret"
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8000", "http://127.0.0.1:8000")
_SIGNATURE_CONTEXT = b"secure-base socketio session v1:"
try:
    from sanic_cors.core import SANIC_CORS_EVALUATED as _SANIC_CORS_EVALUATED
except ImportError:  # sanic-cors comes with Rasa; the name has been stable for years
    _SANIC_CORS_EVALUATED = "_sanic_cors_e"


def load_session_secret(path: Path | None = None) -> bytes:
    """The signing secret: ``SECURE_BASE_SESSION_SECRET``, else a random one kept in a 0600 file.

    Kept on disk so sessions survive a restart of the Rasa server; created on first start.
    """
    # A placeholder or short value stops the server here (SecretError names the setting).
    from_env = secret_from_env(SECRET_ENV)
    if from_env:
        return from_env.encode("utf-8")
    target = Path(path) if path is not None else DEFAULT_SECRET_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = target.read_bytes().strip()
        if len(secret) < 32:
            raise ValueError(
                f"{target}: the session secret is too short; delete the file to make a new one"
            ) from None
        return secret
    with os.fdopen(fd, "wb") as handle:
        secret = secrets.token_urlsafe(48).encode("ascii")
        handle.write(secret)
    return secret


class SessionSigner:
    """Issues session ids of the form ``<id>.<signature>`` and checks them."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the session secret must not be empty")
        self._secret = secret

    def _signature(self, session_id: str) -> str:
        digest = hmac.new(
            self._secret, _SIGNATURE_CONTEXT + session_id.encode("ascii"), hashlib.sha256
        ).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self) -> tuple[str, str]:
        """A fresh (session id, token) pair; the token is what the client keeps."""
        session_id = uuid.uuid4().hex
        return session_id, f"{session_id}.{self._signature(session_id)}"

    def verify(self, token: Any) -> str | None:
        """The session id inside ``token`` if its signature is ours, else None."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 200:
            return None
        session_id, signature = token.split(".")
        if not session_id or not session_id.isalnum() or not session_id.isascii():
            return None
        if hmac.compare_digest(signature, self._signature(session_id)):
            return session_id
        return None


def _origins(value: Any) -> list[str] | str:
    if value is None:
        return list(DEFAULT_ALLOWED_ORIGINS)
    if value == "*":
        return "*"
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(
            "credentials.yml, socketio: 'cors_allowed_origins' must be a list of origins "
            "such as ['http://localhost:8000'] (or '*')"
        )
    return [v.rstrip("/") for v in value]


def _keep_sanic_cors_out(sio: AsyncServer) -> None:
    """Let engine.io alone answer CORS on the socket.io route.

    engine.io checks the origin list and sets ``Access-Control-Allow-Origin`` itself; when Rasa
    also runs with ``--cors``, sanic-cors adds a second such header and browsers then refuse
    every polling request. Marking the request as already handled makes sanic-cors skip it.
    """
    handle_request = sio.eio.handle_request

    @functools.wraps(handle_request)
    async def handle(request: Request, *args: Any, **kwargs: Any) -> Any:
        setattr(request.ctx, _SANIC_CORS_EVALUATED, "1")
        return await handle_request(request, *args, **kwargs)

    # Read by create_route when the blueprint attaches the server to the app.
    sio.eio.handle_request = handle


# engine.io's own default, set here so the limit is visible: a longer packet closes the
# connection before anything reads it. Below it, the fail-safe's length limit answers.
MAX_PACKET_BYTES = 1_000_000


class AnsweringAsyncServer(AsyncServer):
    """python-socketio's server, except that a packet it cannot decode gets an answer.

    JSON nested past Python's recursion limit (``[[[[...``) raises inside python-socketio's
    packet decoder, before any handler of ours runs; engine.io logs it and the user gets
    nothing. ``_handle_eio_message`` is private API of python-socketio 5.x, checked against
    5.18 (the version Rasa 3.6 installs here).
    """

    def __init__(self, *args: Any, answer_event: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answer_event = answer_event
        self.answer_namespace = "/"

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, RecursionError) as exc:
            logger.info("socketio: a packet that could not be decoded (%s)", type(exc).__name__)
            sid = self.manager.sid_from_eio_sid(eio_sid, self.answer_namespace)
            if sid is not None:
                await self.emit(
                    self.answer_event,
                    {"text": failsafe.UNREADABLE_TEXT},
                    room=sid,
                    namespace=self.answer_namespace,
                )


class SafeSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with signed sessions, an origin list and the fail-safe."""

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        session_persistence: bool = False,
        socketio_path: str | None = "/socket.io",
        jwt_key: str | None = None,
        jwt_method: str | None = "HS256",
        metadata_key: str | None = "metadata",
        cors_allowed_origins: Any = None,
        region: str | None = None,
        known_intents: Collection[str] | None = None,
        session_secret: bytes | None = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.cors_allowed_origins = _origins(cors_allowed_origins)
        self.region = region
        self._known_intents = frozenset(known_intents) if known_intents is not None else None
        self._session_secret = session_secret
        # socket.io connection id -> the verified session (sender) id it speaks for
        self._bound: dict[str, str] = {}

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            bool(credentials.get("session_persistence", False)),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=credentials.get("cors_allowed_origins"),
            region=credentials.get("region"),
        )

    @property
    def known_intents(self) -> frozenset[str]:
        """Intent names a button payload may carry, read from the domain once per channel."""
        if self._known_intents is None:
            self._known_intents = failsafe.known_intents_from_domain()
        return self._known_intents

    async def _enter_room(self, sio: AsyncServer, sid: str, room: str) -> None:
        # A coroutine since python-socketio 5.10, a plain function before: support both.
        result = sio.enter_room(sid, room, namespace=self.namespace)
        if inspect.isawaitable(result):
            await result

    async def _leave_room(self, sio: AsyncServer, sid: str, room: str) -> None:
        result = sio.leave_room(sid, room, namespace=self.namespace)
        if inspect.isawaitable(result):
            await result

    async def _bind(self, sio: AsyncServer, signer: SessionSigner, sid: str, token: Any) -> str:
        """Bind the connection to the session in ``token``, or to a fresh one if it is not ours."""
        session_id = signer.verify(token)
        if session_id is None:
            if token:
                logger.info("socketio: a session id with a bad signature; issuing a fresh one")
            session_id, token = signer.issue()
        # The room is named by the sender id: Rasa's SocketIOOutput emits to room=recipient_id.
        sender_id = sender_ids.with_channel(self.name(), session_id)
        previous = self._bound.get(sid)
        if previous and previous != sender_id:
            await self._leave_room(sio, sid, previous)
        await self._enter_room(sio, sid, sender_id)
        self._bound[sid] = sender_id
        await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)
        return sender_id

    def _metadata(self, data: dict[str, Any]) -> dict[str, Any] | None:
        metadata = data.get(self.metadata_key)
        if isinstance(metadata, str):
            if len(metadata) > failsafe.MAX_METADATA_BYTES:
                return None
            try:
                metadata = json.loads(metadata)
            except (ValueError, RecursionError):
                metadata = None
        return metadata if isinstance(metadata, dict) else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server: the stock events, with checked origins and signed sessions."""
        known_intents = self.known_intents
        signer = SessionSigner(self._session_secret or load_session_secret())
        sio = AnsweringAsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            max_http_buffer_size=MAX_PACKET_BYTES,
            answer_event=self.bot_message_evt,
        )
        sio.answer_namespace = self.namespace or "/"
        _keep_sanic_cors_out(sio)
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio  # get_output_channel needs it

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None = None) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = (
                rasa.core.channels.channel.decode_bearer_token(
                    token, self.jwt_key, self.jwt_algorithm
                )
                if token
                else None
            )
            return bool(payload)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            self._bound.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            token = data.get("session_id") if isinstance(data, dict) else None
            if self.session_persistence:
                await self._bind(sio, signer, sid, token)
            else:
                # Without persistence each connection is its own conversation (sender = sid).
                await sio.emit("session_confirm", sid, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            if not isinstance(data, dict):
                # Not the widget's shape (a list, a string, a number): say so, never silence.
                await sio.emit(
                    self.bot_message_evt,
                    {"text": failsafe.UNREADABLE_TEXT},
                    room=sid,
                    namespace=self.namespace,
                )
                return
            if self.session_persistence:
                # The connection speaks for the session it was bound to; a message from a
                # connection that never asked for one is bound now, to its token or a fresh one.
                sender_id = self._bound.get(sid) or await self._bind(
                    sio, signer, sid, data.get("session_id")
                )
            else:
                sender_id = sender_ids.with_channel(self.name(), sid)
                await self._enter_room(sio, sid, sender_id)
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",
                SocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=self._metadata(data),
            )
            await failsafe.handle_message(
                on_new_message,
                message,
                channel=self.name(),
                known_intents=known_intents,
                region=self.region,
            )

        return socketio_webhook
