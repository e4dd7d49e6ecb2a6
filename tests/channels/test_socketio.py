"""The socket.io channel with a real python-socketio client against a real Rasa server.

Persistence across reconnects and a server restart (SQLite tracker store), server-issued signed
sessions (a forged id gets a fresh session), the origin list, and crisis resources.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

from bot.channels.socketio import (
    EXPIRED,
    INVALID,
    VALID,
    SessionSigner,
    load_session_secret,
    session_days_from_env,
)
from bot.secrets import SecretError
from tests.e2e.chat import SOCKETIO_CHANNEL, WAIT_S, Client
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

TOKEN_RE = re.compile(r"^[0-9a-f]{32}\.[0-9]{10}\.[A-Za-z0-9_-]{43}$")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    # Its own stack: --enable-api lets the tests read trackers through Rasa, which waits for the
    # turn to be saved (bound to 127.0.0.1 here).
    with RasaStack(
        SOCKETIO_CHANNEL, tmp_path_factory.mktemp("socketio"), rasa_args=["--enable-api"]
    ) as running:
        yield running


def _tracker_user_texts(stack: RasaStack, session_id: str) -> list[str]:
    # The channel keys the conversation as web:<session id> (bot/sender_ids.py).
    answer = requests.get(f"{stack.base_url}/conversations/web:{session_id}/tracker", timeout=60)
    answer.raise_for_status()
    return [e.get("text") for e in answer.json()["events"] if e["event"] == "user"]


def _sender(token: str) -> str:
    return token.split(".")[0]


async def _saved_user_texts(stack: RasaStack, token: str) -> list[str]:
    """The user texts of the session once its turn is saved (crisis first: the resources go
    out before the dialogue runs, and its turn is saved after)."""
    deadline = time.monotonic() + WAIT_S
    while not _tracker_user_texts(stack, _sender(token)) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return _tracker_user_texts(stack, _sender(token))


def _asks_consent(utterance: dict) -> bool:
    """The last message of a greeting turn (until answered): Rasa saves the turn after it."""
    replies = utterance.get("quick_replies") or []
    return any(r.get("payload") == "/keep_my_answers" for r in replies)


async def test_new_session_is_server_issued_and_greeting_arrives(stack: RasaStack) -> None:
    client = Client()
    await client.connect(stack.base_url)
    try:
        token = await client.request_session(None)
        assert TOKEN_RE.match(token)
        await client.say("/greet", token)
        greeting = await client.wait_for(lambda u: u.get("quick_replies"))
        assert greeting["quick_replies"][0]["payload"].startswith("/")
        await client.wait_for(_asks_consent)
    finally:
        await client.close()
    assert _tracker_user_texts(stack, _sender(token)) == ["/greet"]


async def test_conversation_persists_across_reconnect_and_restart(stack: RasaStack) -> None:
    first = Client()
    await first.connect(stack.base_url)
    token = await first.request_session(None)
    await first.say("/greet", token)
    await first.wait_for(_asks_consent)
    await first.close()

    again = Client()
    await again.connect(stack.base_url)
    try:
        assert await again.request_session(token) == token
        await again.say("thank you", token)
        await again.next_utterance()
    finally:
        await again.close()
    assert _tracker_user_texts(stack, _sender(token)) == ["/greet", "thank you"]

    stack.restart_rasa()
    after = Client()
    await after.connect(stack.base_url)
    try:
        assert await after.request_session(token) == token
        await after.say("hello again", token)
        await after.wait_for(_asks_consent)
    finally:
        await after.close()
    assert _tracker_user_texts(stack, _sender(token)) == ["/greet", "thank you", "hello again"]


async def test_forged_session_ids_get_a_fresh_session(stack: RasaStack) -> None:
    victim = Client()
    await victim.connect(stack.base_url)
    victim_token = await victim.request_session(None)
    await victim.say("/greet", victim_token)
    await victim.wait_for(lambda u: u.get("quick_replies"))
    await victim.close()
    victim_id = _sender(victim_token)

    attacker = Client()
    await attacker.connect(stack.base_url)
    try:
        forged = [
            victim_id,
            f"{victim_id}.{'A' * 43}",
            f"{victim_id}.{victim_token.split('.')[1][:-1]}B",
            SessionSigner(b"someone else's secret, long enough").issue()[1],
        ]
        for claimed in forged:
            issued = await attacker.request_session(claimed)
            assert TOKEN_RE.match(issued)
            assert _sender(issued) != victim_id
        # The connection speaks for its own session, whatever id a message names.
        await attacker.say("hi there", victim_token.split(".")[0])
        await attacker.next_utterance()
    finally:
        await attacker.close()

    # A connection that never asked for a session and names the victim's bare id.
    sneaky = Client()
    await sneaky.connect(stack.base_url)
    try:
        await sneaky.say("hello", victim_id)
        fresh = await asyncio.wait_for(sneaky.confirms.get(), WAIT_S)
        assert _sender(fresh) != victim_id
        await sneaky.next_utterance()
    finally:
        await sneaky.close()
    assert _tracker_user_texts(stack, victim_id) == ["/greet"]


async def test_disallowed_origin_is_refused(stack: RasaStack) -> None:
    client = Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(stack.base_url, origin="http://evil.example")
    allowed = Client()
    await allowed.connect(stack.base_url)
    await allowed.close()


async def _crisis_in_a_new_session(stack: RasaStack, text: str) -> str:
    """Say ``text`` in a new session and wait for the crisis resources; returns the token."""
    client = Client()
    await client.connect(stack.base_url)
    try:
        token = await client.request_session(None)
        await client.say(text, token)
        assert await client.wait_for_resources()
    finally:
        await client.close()
    return token


async def test_crisis_message_gets_the_resources(stack: RasaStack) -> None:
    await _crisis_in_a_new_session(stack, "I want to die")


async def test_a_typed_slash_command_does_not_pick_the_intent(stack: RasaStack) -> None:
    token = await _crisis_in_a_new_session(stack, "/greet I want to die")
    assert await _saved_user_texts(stack, token) == ["greet I want to die"]


async def test_nuls_and_lone_surrogates_are_removed_as_on_every_channel(stack: RasaStack) -> None:
    # Sent as \u0000 and \udc00 escapes; the fail-safe removes both before detection.
    token = await _crisis_in_a_new_session(stack, "I want\x00 to d\udc00ie")
    assert await _saved_user_texts(stack, token) == ["I want to die"]


def test_session_signer_round_trip() -> None:
    signer = SessionSigner(b"x" * 40)
    session_id, token = signer.issue()
    assert signer.verify(token) == session_id
    assert signer.verify(session_id) is None
    assert signer.verify(token + "x") is None
    assert signer.verify(None) is None
    assert SessionSigner(b"y" * 40).verify(token) is None


def test_session_tokens_expire_after_the_lifetime_and_are_renewed_in_use() -> None:
    now = [1_800_000_000.0]
    signer = SessionSigner(b"x" * 40, lifetime_s=30 * 86400, clock=lambda: now[0])
    session_id, token = signer.issue()
    assert signer.check(token).status == VALID and not signer.due_for_renewal(int(now[0]))
    now[0] += 86400  # a day later: still valid, due for renewal (a thirtieth of 30 days)
    assert signer.due_for_renewal(signer.check(token).issued)
    same, renewed = signer.issue(session_id)
    assert same == session_id and renewed != token
    now[0] += 29 * 86400 + 1  # 30 days and a second after the first token
    assert signer.check(token).status == EXPIRED and signer.verify(token) is None
    assert signer.check(renewed).status == VALID
    # A time moved by hand breaks the signature; a time in the future is not ours either.
    signature = token.rsplit(".", 1)[1]
    moved = f"{session_id}.{int(now[0])}.{signature}"
    assert signer.check(moved).status == INVALID
    assert signer.check(signer.issue(issued=int(now[0]) + 3600)[1]).status == INVALID


def test_session_days_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECURE_BASE_SESSION_DAYS", raising=False)
    assert session_days_from_env() == 30
    monkeypatch.setenv("SECURE_BASE_SESSION_DAYS", "7")
    assert session_days_from_env() == 7
    for bad in ("0", "-3", "1.5", "366", "thirty"):
        monkeypatch.setenv("SECURE_BASE_SESSION_DAYS", bad)
        with pytest.raises(ValueError, match="SECURE_BASE_SESSION_DAYS"):
            session_days_from_env()


def test_session_secret_file_is_created_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECURE_BASE_SESSION_SECRET", raising=False)
    path = tmp_path / "var" / "session_secret"
    first = load_session_secret(path)
    assert len(first) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_session_secret(path) == first
    monkeypatch.setenv("SECURE_BASE_SESSION_SECRET", "from-the-environment-0123456789-ABCDEF")
    assert load_session_secret(path) == b"from-the-environment-0123456789-ABCDEF"


def test_a_guessable_session_secret_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECURE_BASE_SESSION_SECRET", "another-long-random-string")
    with pytest.raises(SecretError, match="SECURE_BASE_SESSION_SECRET"):
        load_session_secret(tmp_path / "session_secret")
