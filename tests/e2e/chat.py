"""Talking to a running stack (tests/e2e/servers.py) as a user would, and reading what it kept.

- ``send(stack, sender, message)``: one REST turn; the bot's messages.
- ``Client``: a python-socketio client that keeps what the server sends, in order;
  ``await client.turn(text, token)`` is one socket.io turn (say, then collect the answers).
- Both leave out the "automated program, not a person" notice (bot.channels.ai_notice) that a
  new sender's first message gets, so tests about anything else keep their exact message lists;
  ``notice=True`` keeps it (tests/e2e/test_ai_notice_e2e.py).
- ``user_texts(stack, sender_id)``: the user messages the conversation log holds for a sender id
  as the channel keys it (``rest:ana``, ``web:<session id>``), read with plain SQL.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import requests
import socketio
import sqlalchemy as sa

from bot.channels.ai_notice import is_notice_text
from tests.e2e.crisis_check import shows_crisis_resources
from tests.e2e.servers import RasaStack

# The origin the socket.io channel of the test stacks allows (the page's, as `make run` serves it).
PAGE_ORIGIN = "http://localhost:8000"
SOCKETIO_CHANNEL = {
    "bot.channels.socketio.SafeSocketIOInput": {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
        "cors_allowed_origins": [PAGE_ORIGIN],
    }
}
REST_CHANNEL = {"bot.channels.rest.SafeRestInput": None}
# Only a guard against a hung test: the server answers in well under a second when idle.
WAIT_S = 120
# How long a turn's answers may be apart before the turn counts as over.
QUIET_S = 2.5


def without_notice(messages: list[dict]) -> list[dict]:
    """``messages`` without the AI notice (see the module)."""
    return [m for m in messages if not is_notice_text(m.get("text"))]


def send(stack: RasaStack, sender: str, message: str, *, notice: bool = False) -> list[dict]:
    """One message over the real REST channel; the bot's replies (the notice only if asked)."""
    answer = requests.post(
        f"{stack.base_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        headers=stack.rest_headers,
        timeout=WAIT_S,
    )
    assert answer.status_code == 200, answer.text
    return answer.json() if notice else without_notice(answer.json())


def user_texts(stack: RasaStack, sender_id: str) -> list[str]:
    """What the conversation log holds of this sender's user messages, in order."""
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                    "ORDER BY id"
                ),
                {"s": sender_id},
            ).scalars()
            return [json.loads(row)["text"] for row in rows]
    finally:
        engine.dispose()


class Client:
    """A python-socketio client that keeps what the server sends, in order (the AI notice only
    with ``notice=True``)."""

    def __init__(self, *, notice: bool = False) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.confirms: asyncio.Queue[Any] = asyncio.Queue()
        self.utterances: asyncio.Queue[dict] = asyncio.Queue()
        self.notice = notice
        self.sio.on("session_confirm", self.confirms.put_nowait)
        self.sio.on("bot_uttered", self._uttered)

    def _uttered(self, utterance: dict) -> None:
        if self.notice or not is_notice_text(utterance.get("text")):
            self.utterances.put_nowait(utterance)

    async def connect(self, url: str, origin: str | None = PAGE_ORIGIN) -> None:
        headers = {"Origin": origin} if origin else {}
        # Polling only: the websocket upgrade of python-engineio 4.15 needs aiohttp >= 3.10 and
        # Rasa pins 3.9 (the browser tests cover the websocket transport).
        await self.sio.connect(
            url,
            headers=headers,
            transports=["polling"],
            socketio_path="/socket.io",
            wait_timeout=30,
        )

    async def request_session(self, session_id: str | None) -> str:
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirms.get(), WAIT_S)

    async def say(self, text: str, session_id: str) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id})

    async def next_utterance(self) -> dict:
        return await asyncio.wait_for(self.utterances.get(), WAIT_S)

    async def wait_for(self, predicate: Callable[[dict], Any]) -> dict:
        while True:
            utterance = await self.next_utterance()
            if predicate(utterance):
                return utterance

    async def wait_for_resources(self) -> list[str]:
        """Collect the bot's texts until a whole crisis resource message has arrived."""
        texts: list[str] = []
        while not shows_crisis_resources(texts):
            texts.append((await self.next_utterance()).get("text", ""))
        return texts

    async def turn(
        self,
        text: str,
        token: str,
        until: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Say ``text`` and collect the answers until the bot has been quiet for a moment, and
        (on a loaded machine a turn's replies can be seconds apart) until ``until`` holds or
        WAIT_S ends."""
        await self.say(text, token)
        answers = [await self.next_utterance()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while True:
            waiting = until is not None and not until(answers)
            quiet = max(0.1, deadline - loop.time()) if waiting else QUIET_S
            try:
                answers.append(await asyncio.wait_for(self.utterances.get(), quiet))
            except asyncio.TimeoutError:
                return answers

    async def close(self) -> None:
        # A plain disconnect() waits for the open long-poll to return (up to the 25 s ping
        # interval); closing the engine.io session without waiting tells the server just the same.
        await self.sio.eio.disconnect(abort=True)
