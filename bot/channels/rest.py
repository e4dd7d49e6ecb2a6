"""The REST channel (``POST /webhooks/rest/webhook``) with the fail-safe around every message.

Rasa's stock ``RestInput`` logs the raw user text when the dialogue fails and answers ``200 []``
(silence); it also lets a malformed body through as ``sender=None``. This subclass keeps the URL
and the answer format, validates the body (400 with a JSON error), and hands each message to
:func:`bot.channels.failsafe.handle_message`.

It is a door for tools and tests, not for users, so it is locked: every request must carry
``Authorization: Bearer <SECURE_BASE_REST_TOKEN>``. Without the setting every request gets a 401
that says how to set it (a weak or example token stops the server at start instead). The sender
id becomes ``rest:<sender>`` and the body's ``input_channel`` is ignored: a REST client can only
ever reach REST conversations (bot/sender_ids.py).

credentials.yml::

    bot.channels.rest.SafeRestInput:
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot import rasa_overrides, sender_ids
from bot.channels import ai_notice, failsafe
from bot.secrets import secret_from_env

logger = logging.getLogger(__name__)

_DONE = object()


class BadRequest(ValueError):
    """The request body is not a usable message; the text goes back to the client as JSON."""


def _bad_request(error: str) -> HTTPResponse:
    return response.json({"error": error}, status=400)


TOKEN_ENV = "SECURE_BASE_REST_TOKEN"
NO_TOKEN_TEXT = (
    f"The REST channel is locked: {TOKEN_ENV} is not set on the Rasa server. Set it to a "
    "random string of at least 32 characters (scripts/run.sh makes one in var/rest_token) and "
    "send it as the header 'Authorization: Bearer <token>'."
)
BAD_TOKEN_TEXT = (
    f"Missing or wrong token: send the header 'Authorization: Bearer <token>' with the value "
    f"of {TOKEN_ENV}."
)


def _unauthorized(error: str) -> HTTPResponse:
    return response.json(
        {"error": error}, status=401, headers={"WWW-Authenticate": 'Bearer realm="rest"'}
    )


def token_matches(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (compared in constant time)."""
    scheme, _, presented = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return False
    return hmac.compare_digest(presented.strip().encode("utf-8"), token.encode("utf-8"))


MAX_SENDER_CHARS = 256
# Sanic accepts bodies up to 100 MB; a real message (4000 characters, JSON-escaped, with
# metadata) is far below this. Refused before the JSON is parsed or anything is detected.
MAX_BODY_BYTES = 1024 * 1024


def _usable_sender(sender: str) -> bool:
    return len(sender) <= MAX_SENDER_CHARS and sender.isprintable()


def parse_body(body: bytes) -> tuple[str, str, dict[str, Any] | None]:
    """Validate a webhook body and return (sender, message, metadata).

    Separate from the handler so the rules can be read (and tested) in one place. A body's
    ``input_channel`` is ignored on purpose: it used to pick the journal's channel, which let a
    REST client speak as a Telegram user.
    """
    try:
        data = json.loads(body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested thousands of levels deep ("[[[[..."), found by fuzzing.
        raise BadRequest("The request body must be JSON.") from exc
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    sender = data.get("sender")
    if isinstance(sender, bool) or not isinstance(sender, str | int) or str(sender).strip() == "":
        raise BadRequest("'sender' is required: a non-empty string.")
    if not _usable_sender(str(sender)):
        # A lone surrogate or a NUL in the sender id cannot be stored (the tracker store's
        # encoder fails deep inside Rasa); refuse it here, before anything is written.
        raise BadRequest(
            f"'sender' must be printable text of at most {MAX_SENDER_CHARS} characters."
        )
    message = data.get("message")
    if not isinstance(message, str):
        raise BadRequest("'message' is required: a string.")
    # Lone surrogates and NULs are removed by the fail-safe (failsafe.clean_text), as on every
    # channel, before the message is read.
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object when given.")
    return str(sender), message, metadata


class _PictureAlt:
    """Rasa's collectors drop everything of an image but its URL: keep its description too
    (``alt``, a progress picture's alt text), so a client can show it to a screen reader."""

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        message = CollectingOutputChannel._message(recipient_id, image=image)
        alt = kwargs.get("alt")
        if isinstance(alt, str) and alt.strip():
            message["alt"] = alt
        await self._persist_message(message)  # type: ignore[attr-defined]


class RestOutput(_PictureAlt, CollectingOutputChannel):
    """The JSON answer's messages; an image comes with its ``alt``."""


class RestQueueOutput(_PictureAlt, QueueOutputChannel):
    """The streamed answer's messages (``?stream=true``); an image comes with its ``alt``."""


class SafeRestInput(RestInput):
    """Rasa's REST channel, same URL and answer, with validation and the fail-safe."""

    def __init__(self, region: str | None = None, token: str | None = None) -> None:
        self.region = region
        # None: every request is refused (401) until the operator sets the token.
        self.token = token

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        rasa_overrides.install()
        # Read at start-up: a placeholder or short token stops `rasa run` with a message that
        # names the setting (SecretError), rather than leaving a guessable lock on the door.
        token = secret_from_env(TOKEN_ENV)
        if token is None:
            logger.warning("rest channel: %s is not set; every REST request gets a 401", TOKEN_ENV)
        return cls(region=credentials.get("region"), token=token)

    async def _handle(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
    ) -> None:
        await failsafe.handle_message(
            on_new_message,
            message,
            channel=self.name(),
            known_intents=failsafe.known_intents_from_domain(),
            region=self.region,
        )

    def _stream(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
    ) -> Callable[[Any], Awaitable[None]]:
        # `rasa shell` uses ?stream=true: one JSON message per line as the bot answers.
        async def stream(resp: Any) -> None:
            queue: asyncio.Queue = asyncio.Queue()
            message.output_channel = RestQueueOutput(queue)

            async def run() -> None:
                try:
                    await self._handle(on_new_message, message)
                finally:
                    await queue.put(_DONE)

            task = asyncio.ensure_future(run())
            while (item := await queue.get()) is not _DONE:
                await resp.write(json.dumps(item) + "\n")
            await task

        return stream

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The stock routes (``GET /`` health, ``POST /webhook``) with validation and fail-safe."""
        failsafe.known_intents_from_domain()  # read the domain at start-up, not on a message
        ai_notice.notice_text()  # and the notice: a broken file stops the server here
        module = inspect.getmodule(self)
        webhook = Blueprint(
            f"custom_webhook_{type(self).__name__}", module.__name__ if module else None
        )

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            if self.token is None:
                return _unauthorized(NO_TOKEN_TEXT)
            if not token_matches(request.headers.get("authorization"), self.token):
                return _unauthorized(BAD_TOKEN_TEXT)
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.json(
                    {"error": f"The request body is larger than {MAX_BODY_BYTES} bytes."},
                    status=413,
                )
            try:
                sender, text, metadata = parse_body(request.body)
            except BadRequest as exc:
                return _bad_request(str(exc))
            sender_id = sender_ids.with_channel(self.name(), sender)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                message = UserMessage(
                    text, None, sender_id, input_channel=self.name(), metadata=metadata
                )
                return response.stream(
                    self._stream(on_new_message, message), content_type="text/event-stream"
                )
            collector = RestOutput()
            message = UserMessage(
                text, collector, sender_id, input_channel=self.name(), metadata=metadata
            )
            await self._handle(on_new_message, message)
            return response.json(collector.messages)

        return webhook
