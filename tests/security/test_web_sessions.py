"""Issue 13, finding 7: web session tokens expire, and an erasure ends the session they open.

The real Rasa server and action server with the socket.io channel, and a python-socketio
client per browser tab. Tokens "from the past" are signed with the server's own secret (the
test knows it, as the server's disk would), so they are exactly what a page kept for that long.

Before the fix a token never expired and "delete my data" left it working: any copy of it (a
second tab, a stolen token) resumed the erased conversation and carried on writing to it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e.chat import WAIT_S, Client, user_texts
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

DAY_S = 86_400


def _signed(stack: RasaStack, context: bytes, body: str) -> str:
    """``body`` signed as the server signs it (written out here, not taken from the channel)."""
    secret = stack.env["SECURE_BASE_SESSION_SECRET"].encode()
    digest = hmac.new(secret, context + body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def _token_from(stack: RasaStack, session_id: str, days_ago: float) -> str:
    """A token the server issued ``days_ago`` for this session (``<id>.<issued>.<signature>``)."""
    issued = int(time.time() - days_ago * DAY_S)
    return _signed(stack, b"secure-base socketio session v2:", f"{session_id}.{issued}")


def _v1_token(stack: RasaStack, session_id: str) -> str:
    """A token as the channel issued them before they carried a time (``<id>.<signature>``)."""
    return _signed(stack, b"secure-base socketio session v1:", session_id)


def _session(token: str) -> str:
    return token.split(".")[0]


def _user_texts(stack: RasaStack, session_id: str) -> list[str]:
    """What the conversation log holds of this web session's user messages (plain SQL)."""
    return user_texts(stack, f"web:{session_id}")


def _log_mentions(stack: RasaStack, marker: str) -> int:
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT COUNT(*) FROM events WHERE data LIKE :m"), {"m": f"%{marker}%"}
            ).scalar_one()
    finally:
        engine.dispose()


def _asks_to_confirm_deletion(answers: list[dict[str, Any]]) -> bool:
    return any(
        r.get("payload") == "/confirm_delete" for a in answers for r in a.get("quick_replies", [])
    )


async def _started(stack: RasaStack, marker: str) -> tuple[Client, str]:
    """A tab with a conversation in it: the greeting, then a message carrying ``marker``."""
    client = Client()
    await client.connect(stack.base_url)
    token = await client.request_session(None)
    await client.turn("/greet", token)
    await client.turn(f"my sister {marker} keeps asking me for money", token)
    # That may start the boundary script, which takes other buttons as stray ones: stop it.
    await client.turn("stop", token)
    return client, token


def _texts(answers: list[dict[str, Any]]) -> str:
    return "\n".join(a.get("text") or "" for a in answers)


async def test_erasure_ends_the_session_for_every_copy_of_its_token(stack: RasaStack) -> None:
    marker = f"erase-me-{uuid.uuid4().hex[:8]}"
    tab, token = await _started(stack, marker)
    other_tab = Client()  # the same session open in a second tab
    await other_tab.connect(stack.base_url)
    try:
        assert await other_tab.request_session(token) == token
        assert [t for t in _user_texts(stack, _session(token)) if marker in t]

        asked = await tab.turn("/delete_my_data", token, until=_asks_to_confirm_deletion)
        assert _asks_to_confirm_deletion(asked), _texts(asked)
        erased = await tab.turn("/confirm_delete", token, until=lambda a: "erased" in _texts(a))
        assert "erased" in _texts(erased)
        # The tab that asked is moved to a new session right away, without another word.
        new_token = await asyncio.wait_for(tab.confirms.get(), WAIT_S)
        assert _session(new_token) != _session(token)
        assert "new conversation" not in _texts(erased)

        # The old token, presented again (a reload of another tab, or someone who took it).
        stranger = Client()
        await stranger.connect(stack.base_url)
        try:
            issued = await stranger.request_session(token)
            note = await stranger.next_utterance()
        finally:
            await stranger.close()
        assert _session(issued) not in (_session(token), _session(new_token))
        assert "has been erased" in note["text"] and "new conversation" in note["text"]
        assert note["quick_replies"][0]["payload"] == "/greet"

        # The second tab, still connected to the erased session, writes a message.
        later = await other_tab.turn(
            "is anyone there?",
            token,
            until=lambda a: "has been erased" in _texts(a) and len(a) >= 2,
        )
        assert "has been erased" in _texts(later)
        moved = await asyncio.wait_for(other_tab.confirms.get(), WAIT_S)
        assert _session(moved) not in (_session(token), _session(new_token))
        assert len(later) >= 2, "the message is answered too, in the new session"

        # The first tab carries on in its new session.
        await tab.turn("thank you", new_token)
    finally:
        await tab.close()
        await other_tab.close()

    assert _user_texts(stack, _session(token)) == []  # nothing written after the erasure
    assert _user_texts(stack, _session(moved)) == ["is anyone there?"]
    assert _user_texts(stack, _session(new_token)) == ["thank you"]
    assert _log_mentions(stack, marker) == 0


async def test_an_expired_token_starts_a_new_conversation_with_a_note(stack: RasaStack) -> None:
    marker = f"expired-{uuid.uuid4().hex[:8]}"
    tab, token = await _started(stack, marker)
    await tab.close()
    session_id = _session(token)
    before = _user_texts(stack, session_id)
    stale = [
        _v1_token(stack, session_id),  # issued before tokens carried a time: never expired
        _token_from(stack, session_id, days_ago=31),  # 31 days without use
    ]
    for old in stale:
        client = Client()
        await client.connect(stack.base_url)
        try:
            issued = await client.request_session(old)
            assert _session(issued) != session_id  # before the fix: the old session resumed
            note = await client.next_utterance()
            assert "has ended" in note["text"] and "30 days without use" in note["text"]
            answers = await client.turn("hello", issued)
            assert answers and all(a.get("text") != note["text"] for a in answers)
        finally:
            await client.close()
        assert _user_texts(stack, _session(issued)) == ["hello"]
    assert _user_texts(stack, session_id) == before  # the old conversation was not resumed


async def test_a_token_in_use_is_renewed_and_keeps_its_conversation(stack: RasaStack) -> None:
    marker = f"renewed-{uuid.uuid4().hex[:8]}"
    tab, token = await _started(stack, marker)
    await tab.close()
    session_id = _session(token)
    # 29 days old: still valid, and old enough to be renewed (a thirtieth of the lifetime).
    aging = _token_from(stack, session_id, days_ago=29)
    client = Client()
    await client.connect(stack.base_url)
    try:
        renewed = await client.request_session(aging)
        assert _session(renewed) == session_id and renewed != aging
        assert int(renewed.split(".")[1]) >= int(time.time()) - 60
        answers = await client.turn("I'm back", renewed)
        assert not any("has ended" in (a.get("text") or "") for a in answers)
    finally:
        await client.close()
    said = _user_texts(stack, session_id)
    assert said[-1] == "I'm back" and [t for t in said[:-1] if marker in t]  # the same one
