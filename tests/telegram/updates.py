"""Telegram updates as the Bot API sends them, and the test bot's settings."""

from __future__ import annotations

import itertools
from typing import Any

TOKEN = "123456789:AAFakeTokenForTests_only-1"
SECRET = "test-secret_0123456789_abcdefghijklmnop"
USER_ID = 424242

_update_ids = itertools.count(1000)


def next_update_id() -> int:
    """A fresh update_id (updates are de-duplicated by id)."""
    return next(_update_ids)


def text_update(text: str, chat_id: int = USER_ID, **extra: Any) -> dict[str, Any]:
    """A private-chat message update as Telegram sends it."""
    message: dict[str, Any] = {
        "message_id": next_update_id(),
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"},
        "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
        "date": 1_767_225_600,
        **extra,
    }
    if text:
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
    return {"update_id": next_update_id(), "message": message}


def blocked_update(chat_id: int = USER_ID, update_id: int | None = None) -> dict[str, Any]:
    """The user blocked the bot: a ``my_chat_member`` update (member to kicked)."""
    return {
        "update_id": next_update_id() if update_id is None else update_id,
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"},
            "date": 1_767_225_600,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True}},
            "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True}},
        },
    }


def callback_update(
    data: str, message_id: int, keyboard: list[list[dict[str, str]]], chat_id: int = USER_ID
) -> dict[str, Any]:
    """A button press on a message the bot sent."""
    return {
        "update_id": next_update_id(),
        "callback_query": {
            "id": f"cbq{next_update_id()}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"},
            "chat_instance": "-4242",
            "data": data,
            "message": {
                "message_id": message_id,
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Secure Base"},
                "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
                "date": 1_767_225_600,
                "text": "…",
                "reply_markup": {"inline_keyboard": keyboard},
            },
        },
    }
