"""The socket.io channel for the web page, with working persistence, origins and signed sessions.

Three things the stock ``SocketIOInput`` of Rasa 3.6 gets wrong for us:

* with ``session_persistence: true`` and python-socketio >= 5.10 it never delivers an answer,
  because ``AsyncServer.enter_room`` became a coroutine that it does not await (Rasa issue 13027);
* it accepts connections from any origin (``cors_allowed_origins=[]`` turns checking off);
* the client chooses its own session id, so anyone who learns or guesses an id can read and write
  that user's conversation.

Here the server issues every session id, as a token ``<id>.<issued>.<signature>`` (HMAC-SHA256
with a server secret over the id and the Unix time it was issued). rasa-webchat stores the
string it receives in ``session_confirm`` and sends it back unchanged (it stores a new string
whenever ``session_confirm`` brings one), so the unmodified widget carries the token. The Rasa
sender id (and the socket.io room the answers go to) is ``web:`` plus the verified ``<id>``
part only, so a web session can never name another channel's user (bot/sender_ids.py).

A session ends, and a token for it starts a fresh conversation with a short note saying why:

* after ``SECURE_BASE_SESSION_DAYS`` (30) days without use: a token in use is renewed (same
  session, new time) when it is a thirtieth of that old, on connecting and on messages;
* when its conversation was erased ("delete my data"): ``repository.delete_user`` records the
  session in ``ended_sessions``; the connection that asked gets a new session at once, and the
  old token (a copy in another tab, in another process, or taken by someone) opens nothing.
  Every message checks this before the dialogue runs (after the crisis floor, which never
  waits for it).

A token with a bad signature gets a fresh session silently, as does a first visit.

credentials.yml::

    bot.channels.socketio.SafeSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      cors_allowed_origins: ["http://localhost:8000", "http://127.0.0.1:8000"]
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import inspect
import json
import logging
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rasa.core.channels.channel
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot import rasa_overrides, sender_ids
from bot.channels import ai_notice, failsafe
from bot.journal import repository, session_scope
from bot.secrets import secret_from_env

logger = logging.getLogger(__name__)

SECRET_ENV = "SECURE_BASE_SESSION_SECRET"
DEFAULT_SECRET_FILE = failsafe.PROJECT_ROOT / "var" / "session_secret"
DEFAULT_ALLOWED_ORIGINS = ("http://localhost:8000", "http://127.0.0.1:8000")
# v1 tokens (``<id>.<signature>``, before sessions expired) carry no time: they count as ended.
_V1_CONTEXT = b"secure-base socketio session v1:"
_SIGNATURE_CONTEXT = b"secure-base socketio session v2:"
SESSION_DAYS_ENV = "SECURE_BASE_SESSION_DAYS"
DEFAULT_SESSION_DAYS = 30
MAX_SESSION_DAYS = 365  # bot.journal.repository keeps ended sessions longer than this
# A token issued this far in the future (clock skew between processes) is still accepted.
CLOCK_SKEW_S = 300
try:
    from sanic_cors.core import SANIC_CORS_EVALUATED as _SANIC_CORS_EVALUATED
except ImportError:  # sanic-cors comes with Rasa; the name has been stable for years
    _SANIC_CORS_EVALUATED = "_sanic_cors_e"


class PictureSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, with an image's description: rasa-webchat 1.0.1 keeps only the
    ``title`` and ``src`` of an image attachment and draws the title as bold text above an
    ``<img>`` without ``alt``. The description (``alt``, a progress picture's alt text) goes as
    the title and as ``alt``; web/static/page.js puts it on the ``<img>`` and page.css hides the
    duplicate title."""

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        picture: dict[str, Any] = {"src": image}
        alt = kwargs.get("alt")
        if isinstance(alt, str) and alt.strip():
            picture.update(title=alt, alt=alt)
        await self._send_message(
            recipient_id, {"attachment": {"type": "image", "payload": picture}}
        )


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


def session_days_from_env() -> int:
    """``SECURE_BASE_SESSION_DAYS``: a whole number of days from 1 to 365 (default 30)."""
    raw = os.environ.get(SESSION_DAYS_ENV, "").strip()
    if not raw:
        return DEFAULT_SESSION_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_SESSION_DAYS:
        raise ValueError(
            f"{SESSION_DAYS_ENV} must be a whole number of days from 1 to {MAX_SESSION_DAYS}, "
            f"got {raw!r}"
        )
    return int(raw)


# What ``SessionSigner.check`` finds in a token.
VALID, EXPIRED, INVALID = "valid", "expired", "invalid"


@dataclass(frozen=True)
class TokenCheck:
    status: str
    session_id: str | None = None
    issued: int | None = None


class SessionSigner:
    """Issues session tokens ``<id>.<issued>.<signature>`` and checks them, expiry included."""

    def __init__(
        self,
        secret: bytes,
        lifetime_s: float = DEFAULT_SESSION_DAYS * 86400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the session secret must not be empty")
        if lifetime_s <= 0:
            raise ValueError("a session lifetime must be positive")
        self._secret = secret
        self.lifetime_s = lifetime_s
        # A token in use is renewed once it is this old, so "days without use" is what ends it.
        self.renew_after_s = lifetime_s / 30
        self._clock = clock

    def _signature(self, message: str, context: bytes = _SIGNATURE_CONTEXT) -> str:
        digest = hmac.new(self._secret, context + message.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self, session_id: str | None = None, issued: int | None = None) -> tuple[str, str]:
        """A (session id, token) pair: a fresh session, or a renewed token for ``session_id``."""
        session_id = session_id or uuid.uuid4().hex
        issued = int(self._clock()) if issued is None else int(issued)
        body = f"{session_id}.{issued}"
        return session_id, f"{body}.{self._signature(body)}"

    def check(self, token: Any) -> TokenCheck:
        """What ``token`` is: ours and in time, ours and ended (expired or v1), or not ours."""
        if not isinstance(token, str) or len(token) > 200 or not token.isascii():
            return TokenCheck(INVALID)
        parts = token.split(".")
        session_id = parts[0]
        if not session_id or not session_id.isalnum():
            return TokenCheck(INVALID)
        if len(parts) == 2:
            if hmac.compare_digest(parts[1], self._signature(session_id, _V1_CONTEXT)):
                return TokenCheck(EXPIRED, session_id)
            return TokenCheck(INVALID)
        if len(parts) != 3 or not parts[1].isdigit() or len(parts[1]) > 12:
            return TokenCheck(INVALID)
        if not hmac.compare_digest(parts[2], self._signature(f"{session_id}.{parts[1]}")):
            return TokenCheck(INVALID)
        issued = int(parts[1])
        now = self._clock()
        if issued > now + CLOCK_SKEW_S:
            return TokenCheck(INVALID)
        if now - issued > self.lifetime_s:
            return TokenCheck(EXPIRED, session_id, issued)
        return TokenCheck(VALID, session_id, issued)

    def verify(self, token: Any) -> str | None:
        """The session id inside ``token`` if it is ours and has not expired, else None."""
        found = self.check(token)
        return found.session_id if found.status == VALID else None

    def due_for_renewal(self, issued: int) -> bool:
        return self._clock() - issued >= self.renew_after_s

    def expired(self, issued: int) -> bool:
        return self._clock() - issued > self.lifetime_s


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


# What a page hears when the token it presented can no longer be used (static, like the
# fail-safe's lines: the channel sends them itself, before any dialogue).
ENDED_TEXT = (
    "Your earlier session on this page has ended (a session ends after {days} days without "
    "use), so this is a new conversation: I can't continue the earlier one or open anything "
    "kept in it. Say hi whenever you're ready."
)
ERASED_TEXT = (
    "The conversation this page was connected to has been erased, so it can't be continued "
    "here. This is a new conversation, and nothing of the erased one is in it."
)
START_BUTTON = {"content_type": "text", "title": "Start", "payload": "/greet"}
# Sent to a page just before the new session that replaces an erased one: the widget keeps the
# old conversation in its browser storage and on screen, and web/static/page.js clears it on this.
ERASED_EVENT = "conversation_erased"
# How long a message waits for the "was this session erased?" lookup before going ahead.
ENDED_CHECK_TIMEOUT_S = 5.0


@dataclass
class _Binding:
    """The session a socket.io connection speaks for, and when its token was issued."""

    session_id: str
    sender_id: str
    issued: int  # Unix time the connection's current token was issued


def _issued_of(token: str) -> int:
    return int(token.split(".")[1])


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
        session_secret: bytes | None = None,
        session_days: int | None = None,
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
        self._session_secret = session_secret
        self.session_days = session_days if session_days is not None else session_days_from_env()
        # socket.io connection id -> the verified session it speaks for
        self._bound: dict[str, _Binding] = {}

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        rasa_overrides.install()
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

    async def _enter_room(self, sio: AsyncServer, sid: str, room: str) -> None:
        # A coroutine since python-socketio 5.10, a plain function before: support both.
        result = sio.enter_room(sid, room, namespace=self.namespace)
        if inspect.isawaitable(result):
            await result

    async def _leave_room(self, sio: AsyncServer, sid: str, room: str) -> None:
        result = sio.leave_room(sid, room, namespace=self.namespace)
        if inspect.isawaitable(result):
            await result

    async def _session_ended(self, sender_id: str) -> bool:
        """Whether this session's conversation was erased; False when that cannot be read now.

        Off the event loop, with the journal's engine and its timeouts. When the database is
        out of reach the tracker store is too (the fail-safe then says so), and the check runs
        again on the next message: a failed lookup must not end anyone's session.
        """

        def read() -> bool:
            with session_scope() as session:
                return repository.session_ended(session, sender_id)

        try:
            return await asyncio.wait_for(asyncio.to_thread(read), ENDED_CHECK_TIMEOUT_S)
        except Exception as exc:  # JournalUnavailable, a timeout, missing tables
            logger.warning(
                "socketio: could not check whether a session was erased (%s)", type(exc).__name__
            )
            return False

    async def _attach(
        self,
        sio: AsyncServer,
        sid: str,
        session_id: str,
        token: str,
        notice: str | None = None,
        *,
        erased: bool = False,
    ) -> _Binding:
        """Bind the connection to ``session_id``, hand the page its token, then any notice.

        ``erased``: the session replaces an erased one; the page is told first, so that it drops
        what it still shows and stores of the erased conversation."""
        # The room is named by the sender id: Rasa's SocketIOOutput emits to room=recipient_id.
        sender_id = sender_ids.with_channel(self.name(), session_id)
        previous = self._bound.get(sid)
        if previous and previous.sender_id != sender_id:
            await self._leave_room(sio, sid, previous.sender_id)
        await self._enter_room(sio, sid, sender_id)
        binding = _Binding(session_id, sender_id, _issued_of(token))
        self._bound[sid] = binding
        if erased:
            await sio.emit(ERASED_EVENT, {}, room=sid, namespace=self.namespace)
        await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)
        if notice:
            await sio.emit(
                self.bot_message_evt,
                {"text": notice, "quick_replies": [dict(START_BUTTON)]},
                room=sid,
                namespace=self.namespace,
            )
        return binding

    async def _fresh(
        self,
        sio: AsyncServer,
        signer: SessionSigner,
        sid: str,
        notice: str | None,
        *,
        erased: bool = False,
    ) -> _Binding:
        session_id, token = signer.issue()
        return await self._attach(sio, sid, session_id, token, notice, erased=erased)

    def _ended_text(self) -> str:
        return ENDED_TEXT.format(days=self.session_days)

    async def _bind(
        self, sio: AsyncServer, signer: SessionSigner, sid: str, token: Any
    ) -> _Binding:
        """Bind the connection to the session in ``token``, or to a fresh one.

        A token that is not ours gets a fresh session without a word (a first visit has none);
        one that has expired or whose conversation was erased gets a fresh session and a note
        saying so. A valid token is renewed when it is due.
        """
        found = signer.check(token)
        if found.status == INVALID:
            if token:
                logger.info("socketio: a session id with a bad signature; issuing a fresh one")
            return await self._fresh(sio, signer, sid, None)
        if found.status == EXPIRED:
            logger.info("socketio: an expired session token; starting a fresh session")
            return await self._fresh(sio, signer, sid, self._ended_text())
        session_id = found.session_id
        if await self._session_ended(sender_ids.with_channel(self.name(), session_id)):
            logger.info("socketio: a token of an erased session; starting a fresh session")
            return await self._fresh(sio, signer, sid, ERASED_TEXT, erased=True)
        if signer.due_for_renewal(found.issued):
            _, token = signer.issue(session_id)
        return await self._attach(sio, sid, session_id, token)

    async def _open_session(
        self, sio: AsyncServer, signer: SessionSigner, sid: str, sender_id: str
    ) -> str | None:
        """Before a message enters the dialogue: the sender id it belongs to now, or None.

        The session may have expired while the connection stayed open, or been erased from
        another tab or process: then the message starts a fresh session (with the note). A
        token in use is renewed when due. None: the session was erased and the connection is
        gone, so nobody could be given a new one; the message is dropped, never written into
        the erased conversation.
        """
        binding = self._bound.get(sid)
        if binding is None or binding.sender_id != sender_id:
            return None if await self._session_ended(sender_id) else sender_id
        if signer.expired(binding.issued):
            logger.info("socketio: a session expired while connected; starting a fresh session")
            return (await self._fresh(sio, signer, sid, self._ended_text())).sender_id
        if await self._session_ended(binding.sender_id):
            logger.info("socketio: a message for an erased session; starting a fresh session")
            return (await self._fresh(sio, signer, sid, ERASED_TEXT, erased=True)).sender_id
        if signer.due_for_renewal(binding.issued):
            _, token = signer.issue(binding.session_id)
            await self._attach(sio, sid, binding.session_id, token)
        return binding.sender_id

    async def _after_turn(self, sio: AsyncServer, signer: SessionSigner, sid: str) -> None:
        """After "delete my data": the connection that asked moves to a new session at once.

        The bot has just said that everything was erased, so no note; the page stores the new
        token (``session_confirm``) and the old one opens nothing from now on.
        """
        binding = self._bound.get(sid)
        if binding is not None and await self._session_ended(binding.sender_id):
            await self._fresh(sio, signer, sid, None, erased=True)

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
        known_intents = failsafe.known_intents_from_domain()  # at start-up, not on a message
        ai_notice.notice_text()  # and the notice: a broken file stops the server here
        signer = SessionSigner(
            self._session_secret or load_session_secret(), lifetime_s=self.session_days * 86400
        )
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
            if not self.session_persistence:
                sender_id = sender_ids.with_channel(self.name(), sid)
                await self._enter_room(sio, sid, sender_id)
            else:
                # The connection speaks for the session it was bound to; a message from a
                # connection that never asked for one is bound now, to its token or a fresh one.
                binding = self._bound.get(sid) or await self._bind(
                    sio, signer, sid, data.get("session_id")
                )
                sender_id = binding.sender_id
            text = data.get("message")
            message = UserMessage(
                text if isinstance(text, str) else "",
                PictureSocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=self._metadata(data),
            )

            async def dialogue(guarded: UserMessage) -> None:
                # After the crisis floor (which never waits for the database), before Rasa.
                if self.session_persistence:
                    current = await self._open_session(sio, signer, sid, guarded.sender_id)
                    if current is None:
                        return
                    guarded.sender_id = current
                await on_new_message(guarded)

            await failsafe.handle_message(
                dialogue,
                message,
                channel=self.name(),
                known_intents=known_intents,
                region=self.region,
            )
            if self.session_persistence:
                await self._after_turn(sio, signer, sid)

        return socketio_webhook
