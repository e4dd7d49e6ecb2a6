"""Telegram channel: Rasa's Telegram connector rebuilt for a public, unattended webhook.

Differences from ``rasa.core.channels.telegram`` and why:

- start-up never reaches Telegram: the webhook is registered after the server has started, in
  the background, retried with backoff (the stock channel exits when Telegram is unreachable);
- every request must carry the secret we registered (``X-Telegram-Bot-Api-Secret-Token``);
  anything else gets 403 and nothing is processed;
- a repeated ``update_id`` is answered once across processes and restarts
  (:mod:`bot.channels.update_ledger`): the id is marked done only after it was answered, the
  work runs in a task a cancelled request cannot stop, and a repeat that arrives while another
  attempt is still at work gets 503 so that Telegram tries again later; everything else gets
  200 (Telegram retries any other status for hours), including kinds we do not handle;
- an edited message is read by the crisis check (resources if it fires), not by the dialogue;
- every user message goes through :func:`bot.channels.failsafe.handle_message`;
- no ``getMe`` per update, no raw markdown in what the user reads, callback data kept within
  Telegram's 64 bytes, and a journal export sent as a document.

Settings come from the environment (``TELEGRAM_TOKEN``, ``TELEGRAM_WEBHOOK_URL``,
``TELEGRAM_SECRET``, ``TELEGRAM_API_URL``); keys of the same name in lower case in
credentials.yml win over them. Raw user text, chat ids and secrets are never logged at INFO or
above.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import html
import io
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.bot import api as telegram_api
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils import exceptions as tg_errors
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import rasa_overrides, sender_ids
from bot.channels import ai_notice, failsafe
from bot.channels.update_ledger import BUSY, DONE, FallbackLedger, ledger_from_env
from bot.secrets import check_secret

logger = logging.getLogger(__name__)

ENV_TOKEN = "TELEGRAM_TOKEN"
ENV_WEBHOOK_URL = "TELEGRAM_WEBHOOK_URL"
ENV_SECRET = "TELEGRAM_SECRET"
ENV_API_URL = "TELEGRAM_API_URL"
DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# The update kinds we ask Telegram for; anything else that arrives is acknowledged and ignored.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

# Commands are not typed text: each maps to an intent that must exist in the domain.
COMMAND_INTENTS: Mapping[str, str] = {
    "start": "greet",
    "help": "ask_help",
    "stop": "stop_exercise",
    "delete": "delete_my_data",
}
# Shown in the Telegram client's command menu (setMyCommands); our own words, kept short.
COMMAND_DESCRIPTIONS: Mapping[str, str] = {
    "start": "Say hello and see what we can do together",
    "help": "Show the menu",
    "stop": "Leave the exercise you are in",
    "delete": "Delete what you saved in your journal",
}
# Said when someone sends a sticker, photo, voice note... without any words. It lives here, not
# in the domain, because Rasa never sees such a message.
UNREADABLE_TEXT = "I can only read text messages. Could you tell me in a few words?"
BUTTON_EXPIRED_TEXT = "That button has expired. Please type your answer instead."

MAX_BODY_BYTES = 256 * 1024  # real updates are a few KB; a 4096-character reply chain < 64 KB
MAX_TEXT_CHUNK = 3500  # Telegram's limit is 4096 after entity parsing; leave room for tags
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
MAX_BUTTON_TITLE = 40
MAX_FILENAME = 64
MAX_CAPTION = 1024  # Telegram's limit for a photo's caption
# A picture drawn for one reply (the progress pictures) travels as a data URL; Telegram gets the
# bytes as an upload. Telegram takes photos up to 10 MB; ours are about 30 KB.
PNG_DATA_URL_PREFIX = "data:image/png;base64,"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_FILENAME = "progress.png"
SHORT_ROW_TITLE = 12  # buttons this short (and at most three) share one row
CALLBACK_ID_PREFIX = "#"
REQUEST_TIMEOUT_SECONDS = 15.0
RETRY_INITIAL_SECONDS = 1.0
RETRY_MAX_SECONDS = 300.0

# Telegram: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed."
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TOKEN_RE = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")
_COMMAND_RE = re.compile(r"/(?P<name>[A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?")
_DEEP_LINK_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Message kinds that carry no words we can read: answered with UNREADABLE_TEXT.
_MEDIA_KEYS = (
    "sticker",
    "photo",
    "voice",
    "video",
    "video_note",
    "audio",
    "document",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
)


# --------------------------------------------------------------------------------------------
# Settings


class TelegramConfigError(ValueError):
    """A setting is missing or malformed; the message never contains the secret itself."""


@dataclass(frozen=True)
class TelegramSettings:
    """What the channel needs to talk to one bot; built from credentials and the environment."""

    token: str
    secret: str
    webhook_url: str | None
    api_url: str = DEFAULT_API_URL

    def __repr__(self) -> str:  # never print the token or the secret by accident
        return f"TelegramSettings(webhook_url={self.webhook_url!r}, api_url={self.api_url!r})"

    @classmethod
    def load(
        cls, credentials: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None
    ) -> TelegramSettings:
        """Read the settings: a credentials.yml key wins over the environment variable."""
        env = os.environ if environ is None else environ
        creds = credentials or {}

        def pick(key: str, env_name: str) -> str:
            value = creds.get(key)
            if value is None or str(value).strip() == "":
                value = env.get(env_name, "")
            return str(value).strip()

        token = pick("token", ENV_TOKEN) or pick("access_token", ENV_TOKEN)
        secret = pick("secret", ENV_SECRET)
        webhook_url = pick("webhook_url", ENV_WEBHOOK_URL) or None
        api_url = pick("api_url", ENV_API_URL) or DEFAULT_API_URL

        if not token:
            raise TelegramConfigError(f"no bot token: set {ENV_TOKEN} (from @BotFather)")
        if not _TOKEN_RE.fullmatch(token):
            raise TelegramConfigError(
                f"{ENV_TOKEN} is malformed: a bot token looks like <digits>:<letters, digits, _ ->"
            )
        if not secret:
            raise TelegramConfigError(
                f"no webhook secret: set {ENV_SECRET} (1-256 characters of A-Z a-z 0-9 _ -)"
            )
        if not _SECRET_RE.fullmatch(secret):
            raise TelegramConfigError(
                f"{ENV_SECRET} is malformed: use 1-256 characters of A-Z a-z 0-9 _ -"
            )
        # Not a TelegramConfigError on purpose: a secret someone set but that anyone could guess
        # (an example value, a few characters) stops the server instead of running unlocked.
        check_secret(ENV_SECRET, secret)
        if not api_url.startswith(("http://", "https://")):
            raise TelegramConfigError(f"{ENV_API_URL} must start with http:// or https://")
        if webhook_url and not webhook_url.startswith(("http://", "https://")):
            raise TelegramConfigError(f"{ENV_WEBHOOK_URL} must start with https://")
        return cls(token=token, secret=secret, webhook_url=webhook_url, api_url=api_url)


# --------------------------------------------------------------------------------------------
# Pure parts: secret check, de-duplication, update parsing, rendering


def secret_matches(header_value: str | None, secret: str) -> bool:
    """Compare the request's secret header with ours in constant time."""
    if not header_value or not secret:
        return False
    return hmac.compare_digest(header_value.encode("utf-8"), secret.encode("utf-8"))


class CallbackDataMap:
    """Keeps button payloads within Telegram's 64-byte callback_data.

    A payload that fits is sent as it is. A longer one (``/intent{"entities": ...}``) is sent as
    ``#`` plus a hash of it, and the payload is kept here; the id is a hash so every process
    derives the same id for the same payload. An id this process does not know (after a
    restart) is answered from the button's title instead, see :func:`parse_update`.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        """The callback_data for a payload."""
        if (
            len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES
            and not payload.startswith(CALLBACK_ID_PREFIX)
            and payload
        ):
            return payload
        digest = hashlib.sha256(payload.encode("utf-8")).digest()
        short = CALLBACK_ID_PREFIX + base64.urlsafe_b64encode(digest[:12]).decode("ascii")
        self._payloads[short] = payload
        self._payloads.move_to_end(short)
        if len(self._payloads) > self._capacity:
            self._payloads.popitem(last=False)
        return short

    def decode(self, data: str) -> str | None:
        """The payload for a callback_data, or None for a short id we do not know."""
        if not data.startswith(CALLBACK_ID_PREFIX):
            return data
        return self._payloads.get(data)


@dataclass(frozen=True)
class Inbound:
    """What one update asks of us, reduced to the parts the channel acts on.

    ``kind`` is one of: ``text`` (typed words), ``command`` (a bot command, ``text`` is the
    ``/intent`` payload), ``callback`` (a button press, ``text`` is its payload or None when the
    id expired), ``edited`` (new words in a message sent earlier: read for a crisis only),
    ``unreadable`` (a sticker, photo... without words) or ``ignored``.
    """

    kind: str
    update_id: int | None = None
    chat_id: int | None = None
    text: str | None = None
    callback_query_id: str | None = None
    message_id: int | None = None
    button_title: str | None = None
    language_code: str | None = None
    reason: str = ""


def _command_payload(text: str) -> str | None:
    """``/intent`` for a bare bot command (``/start``, ``/help@OurBot``), else None.

    Extra words after a command make it typed text, so ``/stop I can't go on`` still reaches
    the crisis detector and NLU as words. ``/start <token>`` (a deep link) is a command.
    """
    parts = text.strip().split()
    if not parts:
        return None
    match = _COMMAND_RE.fullmatch(parts[0])
    if not match:
        return None
    name = match["name"].lower()
    intent = COMMAND_INTENTS.get(name)
    if intent is None:
        return None
    if len(parts) == 1 or (
        name == "start" and len(parts) == 2 and _DEEP_LINK_RE.fullmatch(parts[1])
    ):
        return "/" + intent
    return None


def _private_chat_id(message: Any) -> int | None:
    if not isinstance(message, dict):
        return None
    chat = message.get("chat")
    if not isinstance(chat, dict) or chat.get("type") != "private":
        return None
    chat_id = chat.get("id")
    return chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None


def _keyboard_title(message: Any, data: str) -> str | None:
    """The title of the button with this callback_data on the message that carried it."""
    markup = message.get("reply_markup") if isinstance(message, dict) else None
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list):
        return None
    for row in rows:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                title = button.get("text")
                return title if isinstance(title, str) and title.strip() else None
    return None


def parse_update(update: Any, callbacks: CallbackDataMap) -> Inbound:
    """Reduce a Telegram update (parsed JSON) to what the channel should do with it.

    Only private chats are served: in a group every member would share one conversation and
    one journal, and people would read each other's reflections.
    """
    if not isinstance(update, dict):
        return Inbound("ignored", reason="not an object")
    update_id = update.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return Inbound("ignored", reason="no update_id")

    query = update.get("callback_query")
    if isinstance(query, dict):
        query_id = query.get("id") if isinstance(query.get("id"), str) else None
        message = query.get("message")
        chat_id = _private_chat_id(message)
        data = query.get("data")
        if chat_id is None or not isinstance(data, str) or not data:
            # Still answered (by id) so the client's spinner stops.
            return Inbound(
                "ignored", update_id, callback_query_id=query_id, reason="callback without data"
            )
        sender = query.get("from") if isinstance(query.get("from"), dict) else {}
        return Inbound(
            "callback",
            update_id,
            chat_id,
            text=callbacks.decode(data),
            callback_query_id=query_id,
            message_id=message.get("message_id") if isinstance(message, dict) else None,
            button_title=_keyboard_title(message, data),
            language_code=sender.get("language_code"),
        )

    message = update.get("message")
    edited = not isinstance(message, dict) and isinstance(update.get("edited_message"), dict)
    if edited:
        message = update["edited_message"]
    if not isinstance(message, dict):
        kinds = sorted(k for k in update if k != "update_id")
        return Inbound("ignored", update_id, reason="kind " + ",".join(kinds))
    chat_id = _private_chat_id(message)
    if chat_id is None:
        return Inbound("ignored", update_id, reason="not a private chat")
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    if sender.get("is_bot"):
        return Inbound("ignored", update_id, reason="from a bot")
    language = sender.get("language_code")

    text = message.get("text")
    if not isinstance(text, str):
        # A caption is words the person wrote: read it (it may signal a crisis).
        text = message.get("caption") if isinstance(message.get("caption"), str) else None
    if edited:
        if text is None or not text.strip():
            return Inbound("ignored", update_id, chat_id, reason="edited without words")
        return Inbound("edited", update_id, chat_id, text=text, language_code=language)
    if text is not None and text.strip():
        payload = _command_payload(text)
        if payload is not None:
            return Inbound("command", update_id, chat_id, text=payload, language_code=language)
        return Inbound("text", update_id, chat_id, text=text, language_code=language)
    if any(key in message for key in _MEDIA_KEYS):
        return Inbound("unreadable", update_id, chat_id, language_code=language)
    return Inbound("ignored", update_id, chat_id, reason="service message")


def cut_title(title: Any, limit: int = MAX_BUTTON_TITLE) -> str:
    """A button title that fits a phone screen: one line, at most ``limit`` characters."""
    text = " ".join(str(title or "").split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def build_inline_keyboard(
    buttons: list[dict[str, Any]], callbacks: CallbackDataMap
) -> dict[str, Any]:
    """Rasa buttons as a Telegram inline keyboard.

    Up to three short buttons (yes/no) share a row; longer ones get a row each so the titles
    are not cut off on a phone.
    """
    rendered: list[dict[str, str]] = []
    for button in buttons:
        if not isinstance(button, dict):
            continue
        title = cut_title(button.get("title") or button.get("payload"))
        if not title:
            continue
        url = button.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")):
            rendered.append({"text": title, "url": url})
            continue
        payload = button.get("payload")
        payload = payload if isinstance(payload, str) and payload else str(button.get("title"))
        rendered.append({"text": title, "callback_data": callbacks.encode(payload)})
    if len(rendered) <= 3 and all(len(b["text"]) <= SHORT_ROW_TITLE for b in rendered):
        rows = [rendered] if rendered else []
    else:
        rows = [[b] for b in rendered]
    return {"inline_keyboard": rows}


_LINK_RE = re.compile(r"\[([^\]\n<>]+)\]\((https?://[^)\s\"<>]+)\)")
_BOLD_RE = re.compile(r"\*\*([^*\n<>]+?)\*\*")
_ITALIC_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*\n<>]+?)(?<=\S)\*(?![\w*])")
_PLACEHOLDER_RE = re.compile("\x00(\\d+)\x00")


def render_html(text: str) -> str:
    """Our responses' light markdown (**bold**, *italic*, [link](url)) as Telegram HTML.

    Everything else is escaped, so a stray ``<`` or ``&`` cannot break the message. Bold and
    italic never contain a tag, so the tags can never overlap.
    """
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        label = html.escape(match[1], quote=False)
        links.append(f'<a href="{html.escape(match[2], quote=True)}">{label}</a>')
        return f"\x00{len(links) - 1}\x00"

    out = _LINK_RE.sub(keep_link, text.replace("\x00", ""))
    out = html.escape(out, quote=False)
    out = _BOLD_RE.sub(r"<b>\1</b>", out)
    out = _ITALIC_RE.sub(r"<i>\1</i>", out)
    return _PLACEHOLDER_RE.sub(lambda m: links[int(m[1])], out)


def strip_markdown(text: str) -> str:
    """The same text without markdown markers, for when Telegram refuses our HTML."""
    out = _LINK_RE.sub(lambda m: f"{m[1]} ({m[2]})", text)
    out = _BOLD_RE.sub(r"\1", out)
    return _ITALIC_RE.sub(r"\1", out)


def split_text(text: str, limit: int = MAX_TEXT_CHUNK) -> list[str]:
    """Split a long text into sendable parts, at paragraphs first, then lines, then words."""
    text = text.strip()
    if not text:
        return []
    return [part.strip() for part in _pack(text, limit, ("\n\n", "\n", " ")) if part.strip()]


def _pack(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    if len(text) <= limit:
        return [text]
    if not separators:  # one word longer than a message
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    separator, finer = separators[0], separators[1:]
    parts: list[str] = []
    current = ""
    for piece in text.split(separator):
        candidate = current + separator + piece if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        pieces = [piece] if len(piece) <= limit else _pack(piece, limit, finer)
        parts.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        parts.append(current)
    return parts


def png_from_data_url(image: Any) -> bytes | None:
    """The bytes of a ``data:image/png;base64,...`` URL, or None for anything else."""
    if not isinstance(image, str) or not image.startswith(PNG_DATA_URL_PREFIX):
        return None
    try:
        png = base64.b64decode(image[len(PNG_DATA_URL_PREFIX) :], validate=True)
    except ValueError:
        return None
    return png if png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) <= MAX_PHOTO_BYTES else None


def safe_filename(name: Any, default: str = "journal.json") -> str:
    """A plain file name (no directories, no odd characters, extension kept) for sendDocument."""
    base = PurePath(str(name)).name if name else ""
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")
    if not base:
        return default
    suffix = PurePath(base).suffix if len(PurePath(base).suffix) <= 10 else ""
    stem = base[: len(base) - len(suffix)] if suffix else base
    return stem[: MAX_FILENAME - len(suffix)] + suffix


# --------------------------------------------------------------------------------------------
# Talking to the Bot API


class TelegramClient:
    """The few Bot API calls we make, against any Bot API server (aiogram for the plumbing).

    JSON bodies for plain calls, multipart only for uploads. aiogram's own request path logs the
    request data at DEBUG, which would include the webhook secret, so plain calls avoid it.
    """

    def __init__(self, settings: TelegramSettings) -> None:
        self.settings = settings
        self.server = TelegramAPIServer.from_base(settings.api_url)
        # Validates the token format; no network until the first call.
        self.bot = Bot(
            settings.token,
            server=self.server,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
        )

    async def call(self, method: str, payload: dict[str, Any]) -> Any:
        """Call a Bot API method with a JSON body; raises aiogram's TelegramAPIError kinds."""
        url = self.server.api_url(token=self.settings.token, method=method)
        try:
            async with self.bot.session.post(
                url, json=payload, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
            ) as resp:
                body = await resp.text()
                return telegram_api.check_result(method, resp.content_type, resp.status, body)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise tg_errors.NetworkError(f"{method}: {type(exc).__name__}") from None

    async def upload_document(
        self, chat_id: int | str, filename: str, content: bytes, caption: str | None = None
    ) -> Any:
        """sendDocument with a multipart upload of ``content``."""
        data: dict[str, Any] = {"chat_id": chat_id}
        if caption:
            data["caption"] = caption
        files = {"document": (filename, io.BytesIO(content))}
        try:
            return await self.bot.request("sendDocument", data, files)
        except asyncio.TimeoutError:
            raise tg_errors.NetworkError("sendDocument: TimeoutError") from None

    async def upload_photo(
        self, chat_id: int | str, filename: str, content: bytes, caption: str | None = None
    ) -> Any:
        """sendPhoto with a multipart upload of ``content`` (a picture drawn for this reply:
        Telegram gets the bytes, never a link anyone could open)."""
        data: dict[str, Any] = {"chat_id": chat_id}
        if caption:
            data["caption"] = caption
        files = {"photo": (filename, io.BytesIO(content))}
        try:
            return await self.bot.request("sendPhoto", data, files)
        except asyncio.TimeoutError:
            raise tg_errors.NetworkError("sendPhoto: TimeoutError") from None

    async def close(self) -> None:
        """Close the HTTP session if one was opened."""
        session = self.bot._session  # the public property would open a new one
        if session is not None and not session.closed:
            await session.close()


class TelegramOutput(OutputChannel):
    """Sends Rasa's responses to one Telegram bot.

    Delivery failures are logged (without the text) and swallowed: a user who blocked the bot or
    a Telegram hiccup must not undo the conversation's state in Rasa.
    """

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, client: TelegramClient, callbacks: CallbackDataMap) -> None:
        self.client = client
        self.callbacks = callbacks

    async def _send(
        self, method: str, payload: dict[str, Any], plain_text: str | None = None
    ) -> Any:
        """One Bot API call; waits out a short rate limit once, and falls back to plain text
        (``plain_text``) if Telegram cannot parse our HTML. Its result, or None if it failed."""
        if "chat_id" in payload:
            # Rasa addresses answers to the sender id (tg:<chat id>); Telegram wants the chat id.
            payload = {
                **payload,
                "chat_id": sender_ids.bare_id(str(payload["chat_id"]), "telegram"),
            }
        for _attempt in range(3):
            try:
                return await self.client.call(method, payload)
            except tg_errors.RetryAfter as exc:
                if exc.timeout > 5 or _attempt > 0:
                    logger.warning(
                        "telegram %s rate-limited (retry after %ss)", method, exc.timeout
                    )
                    return None
                await asyncio.sleep(exc.timeout)
            except tg_errors.CantParseEntities:
                if plain_text is None or "parse_mode" not in payload:
                    logger.warning("telegram %s refused the entities", method)
                    return None
                logger.warning("telegram refused our HTML; sending plain text")
                payload = {k: v for k, v in payload.items() if k != "parse_mode"}
                payload["text"] = plain_text
            except tg_errors.TelegramAPIError as exc:
                logger.warning("telegram %s failed (%s)", method, type(exc).__name__)
                return None
        return None

    async def _send_text(
        self, recipient_id: str, text: str, reply_markup: dict[str, Any] | None = None
    ) -> Any:
        """Sends ``text`` (in parts if it is long); the first part's message, or None."""
        parts = split_text(text)
        if not parts and reply_markup is not None:
            parts = ["…"]  # Telegram needs some text to hang a keyboard on
        first = None
        for index, part in enumerate(parts):
            payload: dict[str, Any] = {
                "chat_id": recipient_id,
                "text": render_html(part),
                "parse_mode": "HTML",
                "disable_web_page_preview": True,
            }
            if reply_markup is not None and index == len(parts) - 1:
                payload["reply_markup"] = reply_markup
            sent = await self._send("sendMessage", payload, plain_text=strip_markdown(part))
            first = sent if index == 0 else first
        return first

    async def send_pinned(self, recipient_id: str, text: str) -> None:
        """Send ``text`` and pin it at the top of the chat, quietly (the user asked for it: their
        safety plan)."""
        sent = await self._send_text(recipient_id, text)
        message_id = sent.get("message_id") if isinstance(sent, dict) else None
        if message_id is None:
            return
        await self._send(
            "pinChatMessage",
            {"chat_id": recipient_id, "message_id": message_id, "disable_notification": True},
        )

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send text (our light markdown rendered as Telegram HTML)."""
        await self._send_text(recipient_id, text)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Send text with the buttons as an inline keyboard under it."""
        await self._send_text(recipient_id, text, build_inline_keyboard(buttons, self.callbacks))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image: a ``data:image/png;base64`` picture (the progress pictures) is uploaded
        as a photo with its description (``alt``) as the caption; any other URL is sent for
        Telegram to fetch."""
        png = png_from_data_url(image)
        if png is None and isinstance(image, str) and image.startswith("data:"):
            logger.warning("an inline image that is not a PNG was not sent to telegram")
            return
        if png is None:
            await self._send("sendPhoto", {"chat_id": recipient_id, "photo": image})
            return
        alt = kwargs.get("alt")
        caption = alt[:MAX_CAPTION] if isinstance(alt, str) and alt.strip() else None
        try:
            await self.client.upload_photo(
                sender_ids.bare_id(recipient_id, "telegram"), PHOTO_FILENAME, png, caption
            )
        except tg_errors.TelegramAPIError as exc:
            logger.warning("telegram sendPhoto failed (%s)", type(exc).__name__)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """A document (the journal export), a text to pin (the safety plan) or text; anything
        else is not shown to the user."""
        custom = json_message if isinstance(json_message, dict) else {}
        document = custom.get("document")
        if isinstance(document, dict):
            await self.send_document(recipient_id, document)
            return
        pin = custom.get("pin")
        if isinstance(pin, dict) and isinstance(pin.get("text"), str) and pin["text"].strip():
            await self.send_pinned(recipient_id, pin["text"])
            return
        text = custom.get("text")
        if isinstance(text, str) and text.strip():
            await self._send_text(recipient_id, text)
            return
        logger.debug("custom message without a document or text not sent to telegram")

    async def send_document(self, recipient_id: str, document: dict[str, Any]) -> None:
        """Upload ``document['content']`` (a JSON string, or data to serialise) as a file."""
        content = document.get("content")
        if isinstance(content, bytes):
            raw = content
        elif isinstance(content, str):
            raw = content.encode("utf-8")
        else:
            raw = json.dumps(content, ensure_ascii=False, indent=2).encode("utf-8")
        caption = document.get("caption")
        try:
            await self.client.upload_document(
                sender_ids.bare_id(recipient_id, "telegram"),
                safe_filename(document.get("filename")),
                raw,
                caption if isinstance(caption, str) else None,
            )
        except tg_errors.TelegramAPIError as exc:
            logger.warning("telegram sendDocument failed (%s)", type(exc).__name__)

    async def answer_callback(self, callback_query_id: str, text: str | None = None) -> None:
        """Stop the spinner on the button the user pressed."""
        payload: dict[str, Any] = {"callback_query_id": callback_query_id}
        if text:
            payload["text"] = text
        await self._send("answerCallbackQuery", payload)

    async def remove_keyboard(self, chat_id: int | str, message_id: int) -> None:
        """Take the buttons off a message once one was pressed, so an old answer cannot be
        pressed again later in another context."""
        await self._send(
            "editMessageReplyMarkup",
            {"chat_id": chat_id, "message_id": message_id, "reply_markup": {"inline_keyboard": []}},
        )


# --------------------------------------------------------------------------------------------
# The input channel


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SecureTelegramInput(InputChannel):
    """Telegram webhook input channel; see the module docstring for what it adds to Rasa's."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build from credentials.yml (may be empty: the environment is read too).

        Missing or malformed settings leave the channel inactive with one clear log line; the
        server starts anyway.
        """
        rasa_overrides.install()
        try:
            settings = TelegramSettings.load(credentials)
        except TelegramConfigError as exc:
            logger.error("telegram channel inactive: %s", exc)
            return cls(None)
        region = (credentials or {}).get("region")
        return cls(settings, region=str(region) if region else None)

    def __init__(
        self,
        settings: TelegramSettings | None,
        *,
        region: str | None = None,
        known_intents: frozenset[str] | None = None,
        retry_initial_seconds: float = RETRY_INITIAL_SECONDS,
        retry_max_seconds: float = RETRY_MAX_SECONDS,
        ledger: FallbackLedger | None = None,
    ) -> None:
        self.settings = settings
        self.region = region
        self.retry_initial_seconds = retry_initial_seconds
        self.retry_max_seconds = retry_max_seconds
        self.callbacks = CallbackDataMap()
        self.ledger = ledger if ledger is not None else ledger_from_env()
        self._client: TelegramClient | None = None
        self._output: TelegramOutput | None = None
        self._known_intents = known_intents
        self._register_task: asyncio.Task[bool] | None = None
        if settings is not None:
            try:
                self._client = TelegramClient(settings)
            except tg_errors.ValidationError:
                logger.error("telegram channel inactive: %s is malformed", ENV_TOKEN)
                self.settings = None
            else:
                self._output = TelegramOutput(self._client, self.callbacks)

    @property
    def active(self) -> bool:
        """False when the settings were missing or malformed."""
        return self._output is not None

    def get_output_channel(self) -> TelegramOutput | None:
        """The output channel (no network call, unlike Rasa's)."""
        return self._output

    # -- webhook registration -----------------------------------------------------------------

    async def register_webhook(self) -> bool:
        """setWebhook with our secret, retried with backoff until it works or cannot work.

        Runs in the background after start-up. Gives up only on answers that a retry cannot
        change (bad token, URL refused).
        """
        if self._client is None or self.settings is None:
            return False
        if not self.settings.webhook_url:
            logger.warning(
                "telegram: %s is not set, so the webhook is not registered; "
                "updates arrive only if it was registered elsewhere with the same secret",
                ENV_WEBHOOK_URL,
            )
            return False
        payload = {
            "url": self.settings.webhook_url,
            "secret_token": self.settings.secret,
            "allowed_updates": list(ALLOWED_UPDATES),
            "drop_pending_updates": False,
        }
        delay = self.retry_initial_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._client.call("setWebhook", payload)
            except (tg_errors.Unauthorized, tg_errors.NotFound) as exc:
                logger.error("telegram webhook not registered: the token was refused (%s)", exc)
                return False
            except tg_errors.RetryAfter as exc:
                delay = max(delay, float(exc.timeout))
                logger.warning("telegram setWebhook rate-limited; retrying in %.0fs", delay)
            except tg_errors.BadRequest as exc:
                logger.error("telegram webhook not registered: Telegram said %s", exc)
                return False
            except tg_errors.TelegramAPIError as exc:
                logger.warning(
                    "telegram setWebhook attempt %d failed (%s); retrying in %.0fs",
                    attempt,
                    str(exc)[:200],  # a proxy's error page can be long
                    delay,
                )
            else:
                logger.info("telegram webhook registered (attempt %d)", attempt)
                await self._set_commands()
                return True
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.retry_max_seconds)

    async def _set_commands(self) -> None:
        assert self._client is not None
        commands = [{"command": c, "description": d} for c, d in COMMAND_DESCRIPTIONS.items()]
        try:
            await self._client.call("setMyCommands", {"commands": commands})
        except tg_errors.TelegramAPIError as exc:
            logger.warning("telegram setMyCommands failed (%s)", type(exc).__name__)

    # -- handling one request -----------------------------------------------------------------

    def known_intents(self, app_ctx: Any = None) -> frozenset[str]:
        """Intent names a payload may name: the domain on disk, else the loaded model's.

        Falling back to the model keeps buttons and commands working when the server runs
        without the source tree (only the model file).
        """
        if self._known_intents is not None:
            return self._known_intents
        try:
            return failsafe.known_intents_from_domain()
        except (OSError, ValueError) as exc:
            agent = getattr(app_ctx, "agent", None)
            domain = getattr(agent, "domain", None)
            intents = frozenset(getattr(domain, "intents", None) or ())
            if not intents:
                logger.error("telegram: no domain intents (%s); buttons will read as words", exc)
            return intents

    async def handle_request(
        self,
        headers: Mapping[str, str],
        body: bytes,
        on_new_message: OnNewMessage,
        app_ctx: Any = None,
    ) -> tuple[int, dict[str, Any]]:
        """Check, parse and act on one webhook request; returns (status, JSON body).

        Independent of Sanic so the rules can be tested on their own.
        """
        if not self.active or self.settings is None:
            return 503, {"status": "inactive"}
        if not secret_matches(headers.get(SECRET_HEADER), self.settings.secret):
            logger.warning("telegram webhook request without the right secret refused")
            return 403, {"status": "forbidden"}
        if len(body) > MAX_BODY_BYTES:
            logger.warning("telegram webhook body too large (%d bytes) ignored", len(body))
            return 413, {"status": "too large"}
        try:
            update = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            logger.warning("telegram webhook body is not JSON; ignored")
            return 400, {"status": "malformed"}

        inbound = parse_update(update, self.callbacks)
        if inbound.update_id is None:
            return await self._answer(inbound, on_new_message, app_ctx)
        state = await self.ledger.claim(inbound.update_id)
        if state == DONE:
            logger.debug("telegram update %s answered before; ignored", inbound.update_id)
            return 200, {"status": "duplicate"}
        if state == BUSY:
            # Another attempt is still at work (or died and its claim has not run out yet):
            # Telegram tries again later, and then gets "duplicate" or takes it over.
            return 503, {"status": "in progress"}
        task = asyncio.ensure_future(self._answer(inbound, on_new_message, app_ctx))
        failsafe.keep_running(task)
        # Shielded: Telegram hanging up (its timeout) must not stop the answer half-way, nor
        # leave the id claimed but never answered.
        return await asyncio.shield(task)

    async def _answer(
        self, inbound: Inbound, on_new_message: OnNewMessage, app_ctx: Any
    ) -> tuple[int, dict[str, Any]]:
        update_id = inbound.update_id
        renewal = (
            asyncio.ensure_future(self._renew_claim(update_id)) if update_id is not None else None
        )
        try:
            acted = await self._act(inbound, on_new_message, app_ctx)
            answer: tuple[int, dict[str, Any]] = (200, {"status": "ok" if acted else "ignored"})
        except asyncio.CancelledError:
            # Only a server shutting down cancels this task. Not answered, so not marked done:
            # the claim runs out and Telegram's next attempt takes the update over.
            raise
        except Exception as exc:  # never a 500: Telegram would re-send the update for hours
            logger.error("telegram update %s failed (%s)", update_id, type(exc).__name__)
            logger.debug("telegram update failure details", exc_info=True)
            # The fail-safe has answered what it could; a re-send would fail the same way.
            answer = (200, {"status": "error"})
        finally:
            if renewal is not None:
                renewal.cancel()
        if update_id is not None:
            await self.ledger.finish(update_id)
        return answer

    async def _renew_claim(self, update_id: int) -> None:
        while True:
            await asyncio.sleep(self.ledger.memory.claim_seconds / 3)
            await self.ledger.renew(update_id)

    async def _act(self, inbound: Inbound, on_new_message: OnNewMessage, app_ctx: Any) -> bool:
        """Act on one update; False when it asked nothing of us (ignored, an ordinary edit)."""
        output = self._output
        assert output is not None
        if inbound.kind == "ignored":
            if inbound.callback_query_id:
                await output.answer_callback(inbound.callback_query_id)
            logger.debug("telegram update %s ignored: %s", inbound.update_id, inbound.reason)
            return False
        assert inbound.chat_id is not None
        recipient = str(inbound.chat_id)
        if inbound.kind == "unreadable":
            await output.send_text_message(recipient, UNREADABLE_TEXT)
            return True

        if inbound.kind == "edited":
            # The dialogue has moved on from that message; only the floor reads it again.
            return await failsafe.answer_if_crisis(
                inbound.text or "", output, recipient, channel=self.name(), region=self.region
            )

        text = inbound.text
        if inbound.kind == "callback":
            assert inbound.callback_query_id is not None
            await output.answer_callback(inbound.callback_query_id)
            if inbound.message_id is not None:
                await output.remove_keyboard(recipient, inbound.message_id)
            if text is None:
                # An id from before a restart: the button's title is what the person chose.
                text = inbound.button_title
            if not text:
                await output.send_text_message(recipient, BUTTON_EXPIRED_TEXT)
                return True

        message = UserMessage(
            text,
            output,
            sender_ids.with_channel(self.name(), recipient),
            input_channel=self.name(),
            metadata={"telegram": {"update_id": inbound.update_id, "kind": inbound.kind}},
        )
        await failsafe.handle_message(
            on_new_message,
            message,
            channel=self.name(),
            known_intents=self.known_intents(app_ctx),
            region=self.region,
        )
        return True

    # -- Sanic --------------------------------------------------------------------------------

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """Routes: GET / (health), POST /webhook; registers the webhook after start-up."""
        bp = Blueprint("secure_telegram_webhook", __name__)
        if self.active:
            self.known_intents()  # read the domain at start-up, not on the first message
            ai_notice.notice_text()  # and the notice: a broken file stops the server here

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.active else "inactive"})

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            status, body = await self.handle_request(
                request.headers, request.body or b"", on_new_message, request.app.ctx
            )
            return response.json(body, status=status)

        @bp.listener("after_server_start")
        async def start_registration(app: Any, _loop: Any) -> None:
            if self.active:
                # A task, not an await: start-up must not wait for Telegram.
                self._register_task = asyncio.get_running_loop().create_task(
                    self.register_webhook()
                )

        @bp.listener("before_server_stop")
        async def stop(app: Any, _loop: Any) -> None:
            task = self._register_task
            if task is not None and not task.done():
                task.cancel()
            if self._client is not None:
                await self._client.close()

        return bp
