"""Lone surrogates and NULs leave a message in the fail-safe, the one path of every channel.

A JSON body can carry both (``\\ud800``, ``\\u0000``): a lone surrogate cannot be encoded as UTF-8
anywhere downstream and PostgreSQL refuses a NUL. REST, socket.io and Telegram clean them the
same way because none of them does it itself. Telegram is shown here over real HTTP against the
fake Bot API; socket.io against the real Rasa server in ``test_socketio.py``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import failsafe
from bot.channels import telegram as tg
from bot.journal import db
from tests.e2e.crisis_check import shows_crisis_resources
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import SECRET, TOKEN, text_update

DIRTY = "hel\x00lo th\ud800ere\udfff"
CLEAN = "hello there"
DIRTY_CRISIS = "I want\x00 to d\udc00ie"


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Crisis counts and Telegram's update ledger go to a temporary database."""
    url = f"sqlite:///{tmp_path / 'cleaning.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    monkeypatch.delenv("SECURE_BASE_REDIS_URL", raising=False)
    db.upgrade(url)
    yield url
    db.dispose_engines(url)


class Dialogue:
    """Stands in for Rasa's agent: keeps the text it was given."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "ok"})


def test_clean_text_removes_lone_surrogates_and_nuls_only() -> None:
    assert failsafe.clean_text(DIRTY) == CLEAN
    assert failsafe.clean_text("émoji 🙂 and a pair \U0001f600") == "émoji 🙂 and a pair \U0001f600"
    assert failsafe.clean_text(None) == ""
    assert failsafe.clean_text(42) == ""


@pytest.mark.parametrize("channel", ["rest", "socketio", "telegram"])
async def test_every_channel_name_gets_the_same_clean_text(channel: str) -> None:
    dialogue = Dialogue()
    message = UserMessage(DIRTY, CollectingOutputChannel(), "sender-1", input_channel=channel)
    await failsafe.handle_message(dialogue, message, channel=channel, known_intents=set())
    assert dialogue.received == [CLEAN]


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    with FakeBotApi(TOKEN) as api:
        yield api


async def _post(api: FakeBotApi, update: dict, dialogue: Dialogue) -> int:
    settings = tg.TelegramSettings(TOKEN, SECRET, None, api.url)
    channel = tg.SecureTelegramInput(settings, known_intents=frozenset({"greet"}))
    # json.dumps writes the lone surrogates as \udXXX escapes, as a sender's client would.
    body = json.dumps(update).encode("ascii")
    try:
        status, _ = await channel.handle_request({tg.SECRET_HEADER: SECRET}, body, dialogue)
    finally:
        await channel._client.close()
    return status


def _sent(api: FakeBotApi) -> list[str]:
    # Telegram is sent HTML: "&amp;" in the resources reads as "&" again.
    return [html.unescape(c.params["text"]) for c in api.calls("sendMessage") if c.status == 200]


async def test_telegram_text_reaches_the_dialogue_clean(fake_api: FakeBotApi) -> None:
    dialogue = Dialogue()
    assert await _post(fake_api, text_update(DIRTY), dialogue) == 200
    assert dialogue.received == [CLEAN]


async def test_telegram_crisis_is_read_through_the_noise(fake_api: FakeBotApi) -> None:
    dialogue = Dialogue()
    assert await _post(fake_api, text_update(DIRTY_CRISIS), dialogue) == 200
    assert shows_crisis_resources(_sent(fake_api))
    assert dialogue.received == ["I want to die"]


async def test_an_edited_telegram_message_is_read_clean_too(fake_api: FakeBotApi) -> None:
    edited = {"update_id": 9, "edited_message": text_update(DIRTY_CRISIS)["message"]}
    dialogue = Dialogue()
    assert await _post(fake_api, edited, dialogue) == 200
    assert shows_crisis_resources(_sent(fake_api))
    assert dialogue.received == []
