"""The crisis answer never waits, and no client can freeze a process: the real Rasa server and
action server, with the Telegram (fake Bot API), socket.io and REST channels.

One module-scoped stack (start-up is the slow part). The action server sits behind a proxy
that can hold one user's calls: that user's turn then hangs inside Rasa, holding the
conversation lock, as a stuck action or a slow database would.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from bot import sender_ids
from bot.channels import failsafe
from bot.channels import telegram as tg
from deploy.processes import free_port
from tests.e2e.chat import REST_CHANNEL, SOCKETIO_CHANNEL, Client
from tests.e2e.crisis_check import shows_crisis_resources
from tests.e2e.servers import RasaStack
from tests.security.action_proxy import HoldingActionProxy
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import SECRET, TOKEN, text_update

pytestmark = pytest.mark.server

CRISIS_TEXT = "I want to kill myself"
CREDENTIALS = {
    **REST_CHANNEL,
    "bot.channels.telegram.SecureTelegramInput": None,
    **SOCKETIO_CHANNEL,
}
_chat_ids = itertools.count(770_001)


@dataclass
class Stack:
    rasa: RasaStack
    api: FakeBotApi
    proxy: HoldingActionProxy

    @property
    def webhook(self) -> str:
        return f"{self.rasa.base_url}/webhooks/telegram/webhook"

    def post_update(self, update: Any, timeout: float = 120) -> requests.Response:
        return requests.post(
            self.webhook, json=update, headers={tg.SECRET_HEADER: SECRET}, timeout=timeout
        )

    def resources_sent(self, chat_id: int) -> int:
        """How many times the crisis resources (their US line, 988) went to this chat."""
        return sum(
            1
            for c in self.api.calls("sendMessage")
            if str(c.params.get("chat_id")) == str(chat_id)
            and c.status == 200
            and "988" in c.params.get("text", "")
        )

    def tracker_events(self, sender: str) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.rasa.base_url}/conversations/{sender}/tracker", timeout=60)
        answer.raise_for_status()
        return answer.json()["events"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    api = FakeBotApi(TOKEN, port=free_port()).start()
    workdir: Path = tmp_path_factory.mktemp("crisis-first")
    rasa = RasaStack(
        CREDENTIALS,
        workdir,
        env={
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_SECRET": SECRET,
            "TELEGRAM_API_URL": api.url,
        },
        rasa_args=("--enable-api",),
    )
    proxy = HoldingActionProxy(rasa.action_url).start()
    endpoints = yaml.safe_load(rasa.endpoints_file.read_text())
    endpoints["action_endpoint"]["url"] = f"{proxy.url}/webhook"
    rasa.endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    try:
        with rasa:
            yield Stack(rasa, api, proxy)
    finally:
        proxy.stop()
        api.stop()


def _wait(predicate: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - start


def test_a_crisis_behind_a_hung_turn_gets_resources_at_once_and_a_retry_is_answered_once(
    stack: Stack,
) -> None:
    chat = next(_chat_ids)
    stack.proxy.release.clear()
    stack.proxy.holding.clear()
    stack.proxy.hold = {str(chat)}
    earlier = threading.Thread(
        target=stack.post_update, args=(text_update("/show_journal", chat_id=chat),), daemon=True
    )
    earlier.start()
    assert stack.proxy.holding.wait(120), "the earlier turn never reached the action server"

    crisis = text_update(CRISIS_TEXT, chat_id=chat)
    # Telegram gives up on a slow webhook: here after 1 s, which cancels our handler.
    with pytest.raises(requests.exceptions.ReadTimeout):
        stack.post_update(crisis, timeout=1.0)
    _wait(lambda: stack.resources_sent(chat) >= 1, 10, "the crisis resources")
    # "At once" without a clock on a shared machine: the resources went out while the earlier
    # turn is still held at the action server (it is released only below).
    assert not stack.proxy.release.is_set()
    assert earlier.is_alive(), "the earlier turn should still be waiting for its answer"

    # The re-send while the dialogue still waits behind the hung turn: come back later.
    assert stack.post_update(crisis).status_code == 503
    stack.proxy.release.set()
    earlier.join(120)

    def answered() -> bool:
        return stack.post_update(crisis).json().get("status") == "duplicate"

    _wait(answered, 120, "the crisis turn to finish")
    assert stack.resources_sent(chat) == 1
    # The dialogue ran the crisis turn too and kept its events: the conversation is right.
    events = stack.tracker_events(sender_ids.with_channel("telegram", str(chat)))
    user_texts = [e.get("text") for e in events if e["event"] == "user"]
    assert user_texts == ["/show_journal", CRISIS_TEXT]
    actions = [e.get("name") for e in events if e["event"] == "action"]
    assert "utter_crisis_resources" in actions


def test_an_edited_message_with_a_crisis_gets_the_resources(stack: Stack) -> None:
    chat = next(_chat_ids)
    update = text_update(CRISIS_TEXT, chat_id=chat)
    edited = {"update_id": update["update_id"], "edited_message": update["message"]}
    assert stack.post_update(edited).status_code == 200
    _wait(lambda: stack.resources_sent(chat) >= 1, 10, "the crisis resources")


async def _reply_time(client: Client, token: str, text: str) -> float:
    start = time.monotonic()
    await client.say(text, token)
    await client.next_utterance()
    return time.monotonic() - start


async def _drain(client: Client) -> None:
    await asyncio.sleep(0.5)
    while not client.utterances.empty():
        client.utterances.get_nowait()


async def test_a_huge_socketio_message_does_not_slow_another_conversation(stack: Stack) -> None:
    other, big = Client(), Client()
    await other.connect(stack.rasa.base_url)
    await big.connect(stack.rasa.base_url)
    try:
        other_token = await other.request_session(None)
        big_token = await big.request_session(None)
        baseline = []
        for _ in range(3):
            baseline.append(await _reply_time(other, other_token, "/greet"))
            await _drain(other)
        # Just under engine.io's packet limit (the JSON escapes count too); accents, digits
        # for letters and punctuation give the normaliser the most work (7 s when read whole).
        huge = ("Ünïcødé d1e k!ll s3lf ... wh@t?? " * 20_000)[:500_000]
        answer: asyncio.Future = asyncio.ensure_future(big.next_utterance())
        await big.say(huge, big_token)
        # The other conversation keeps talking until the huge message has been answered.
        during = []
        while not answer.done():
            during.append(await _reply_time(other, other_token, "/greet"))
            await _drain(other)
        assert (await answer).get("text") == failsafe.TOO_LONG_TEXT
        during.append(await _reply_time(other, other_token, "/greet"))
    finally:
        await other.close()
        await big.close()
    # Generous for a shared machine, yet below what reading all of it for a crisis held the
    # event loop for (several seconds; 4.4 s for 1 MB in the issue).
    assert max(during) < max(1.5, 3 * statistics.median(baseline)), (baseline, during)


async def test_deeply_nested_json_over_socketio_gets_an_answer(stack: Stack) -> None:
    client = Client()
    await client.connect(stack.rasa.base_url)
    try:
        token = await client.request_session(None)
        nested = "[" * 50_000 + "]" * 50_000
        # A raw socket.io EVENT packet: the client library cannot even encode such data.
        await client.sio.eio.send(f'2["user_uttered",{nested}]')
        answer = await client.next_utterance()
        assert answer.get("text") == failsafe.UNREADABLE_TEXT
        # Nested metadata (as the widget sends it, a JSON string) is dropped, not fatal.
        await client.sio.emit(
            "user_uttered",
            {"message": "/greet", "session_id": token, "metadata": "[" * 3000 + "]" * 3000},
        )
        greeting = await client.next_utterance()
        assert greeting.get("text")
        # And the conversation goes on.
        await _drain(client)
        assert await _reply_time(client, token, "/greet") < 60
    finally:
        await client.close()


def test_rest_refuses_an_oversized_body_and_reads_a_long_crisis_fast(stack: Stack) -> None:
    url = f"{stack.rasa.base_url}/webhooks/rest/webhook"
    too_big = requests.post(
        url,
        json={"sender": "big-body", "message": "x" * (1024 * 1024 + 10)},
        headers=stack.rasa.rest_headers,
        timeout=60,
    )
    assert too_big.status_code == 413
    assert "larger than" in too_big.json()["error"]

    long_crisis = "word " * 150_000 + CRISIS_TEXT  # 750 KB, the crisis at the end
    start = time.monotonic()
    answer = requests.post(
        url,
        json={"sender": "long-crisis", "message": long_crisis},
        headers=stack.rasa.rest_headers,
        timeout=60,
    )
    took = time.monotonic() - start
    assert answer.status_code == 200
    assert shows_crisis_resources([m.get("text") for m in answer.json()])
    assert took < 3.0, took
