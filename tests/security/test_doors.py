"""Only the public doors are public (issue 13, findings 1 and 2), against the real servers.

One module-scoped stack: the action server and a Rasa server with the REST and Telegram channels,
Telegram talking to the fake Bot API (Telegram's own servers cannot be reached from tests). A
Telegram user chats and has a journal; then an attacker who knows their public chat id tries
every way in that used to work:

- REST with ``input_channel: telegram`` and without it, to read (export), erase or write into
  the Telegram user's data;
- REST without the token, or with a wrong one;
- the action server directly, with a made-up tracker for ``action_export_my_data`` /
  ``action_delete_my_data``.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from bot.channels import rest
from bot.channels import telegram as tg
from bot.journal import ValueRatingIn, repository
from bot.journal.db import dispose_engines, session_scope
from deploy.processes import free_port
from tests.conftest import user_who_agreed
from tests.e2e.servers import RasaStack
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import SECRET, TOKEN, text_update

pytestmark = pytest.mark.server

_chat_ids = itertools.count(770_001)
SECRET_VALUE = "loyalty"
SECRET_ACTION = "call Mia on Sunday"


@dataclass
class Doors:
    stack: RasaStack
    api: FakeBotApi

    @property
    def rest_url(self) -> str:
        return f"{self.stack.base_url}/webhooks/rest/webhook"

    def rest(
        self, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> requests.Response:
        return requests.post(
            self.rest_url,
            json=body,
            headers=self.stack.rest_headers if headers is None else headers,
            timeout=120,
        )

    def telegram(self, chat_id: int, text: str) -> None:
        answer = requests.post(
            f"{self.stack.base_url}/webhooks/telegram/webhook",
            json=text_update(text, chat_id=chat_id),
            headers={tg.SECRET_HEADER: SECRET},
            timeout=120,
        )
        assert answer.status_code == 200, answer.text

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """What the conversation log holds under one sender id (SQL, not Rasa's API)."""
        engine = sa.create_engine(self.stack.database_url, future=True)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"),
                    {"s": sender_id},
                ).scalars()
                return [json.loads(row) for row in rows]
        finally:
            engine.dispose()

    def journal_of_telegram_user(self, chat_id: int) -> dict[str, Any] | None:
        with session_scope(self.stack.database_url) as session:
            user = repository.find_user(session, "telegram", str(chat_id))
            summary = repository.summary(session, user) if user else None
        dispose_engines(self.stack.database_url)
        return summary


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    api = FakeBotApi(TOKEN, port=free_port()).start()
    env = {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
        "TELEGRAM_API_URL": api.url,
    }
    credentials = {
        "bot.channels.rest.SafeRestInput": None,
        "bot.channels.telegram.SecureTelegramInput": None,
    }
    try:
        with RasaStack(credentials, tmp_path_factory.mktemp("doors"), env=env) as stack:
            yield Doors(stack, api)
        dispose_engines(stack.database_url)
    finally:
        api.stop()


@pytest.fixture
def victim(doors: Doors, monkeypatch: pytest.MonkeyPatch) -> int:
    """A Telegram user (public numeric chat id) who has chatted and kept something."""
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", doors.stack.env["SECURE_BASE_ID_SECRET"])
    chat_id = next(_chat_ids)
    doors.telegram(chat_id, "hi")
    with session_scope(doors.stack.database_url) as session:
        user = user_who_agreed(session, "telegram", str(chat_id))
        repository.save_value_ratings(
            session, user, "friendships", [ValueRatingIn(SECRET_VALUE, 8, 3)]
        )
        repository.add_committed_action(session, user, SECRET_ACTION, value=SECRET_VALUE)
    dispose_engines(doors.stack.database_url)
    assert doors.events(f"tg:{chat_id}"), "the Telegram conversation is logged under tg:<id>"
    return chat_id


def _texts(answer: requests.Response) -> str:
    assert answer.status_code == 200, answer.text
    return json.dumps(answer.json())


SPOOFS = [
    pytest.param(lambda chat: {"sender": str(chat), "input_channel": "telegram"}, id="channel"),
    pytest.param(lambda chat: {"sender": str(chat)}, id="bare-id"),
    pytest.param(lambda chat: {"sender": f"tg:{chat}"}, id="prefixed-id"),
]


@pytest.mark.parametrize("spoof", SPOOFS)
def test_rest_cannot_export_a_telegram_users_data(doors: Doors, victim: int, spoof: Any) -> None:
    exported = _texts(doors.rest({**spoof(victim), "message": "export my data"}))
    assert SECRET_VALUE not in exported
    assert SECRET_ACTION not in exported
    # Nor their conversation: the Telegram chat said "hi" with the victim's update ids.
    assert '"telegram"' not in exported


@pytest.mark.parametrize("spoof", SPOOFS)
def test_rest_cannot_erase_a_telegram_users_data(doors: Doors, victim: int, spoof: Any) -> None:
    _texts(doors.rest({**spoof(victim), "message": "delete my data"}))
    _texts(doors.rest({**spoof(victim), "message": "/confirm_delete"}))
    kept = doors.journal_of_telegram_user(victim)
    assert kept is not None
    assert SECRET_ACTION in json.dumps(kept)
    assert doors.events(f"tg:{victim}")


@pytest.mark.parametrize("spoof", SPOOFS)
def test_rest_cannot_write_into_a_telegram_users_conversation(
    doors: Doors, victim: int, spoof: Any
) -> None:
    marker = f"marker{uuid.uuid4().hex[:8]}"
    _texts(doors.rest({**spoof(victim), "message": f"what is codependency? {marker}"}))
    telegram_log = json.dumps(doors.events(f"tg:{victim}"))
    assert marker not in telegram_log
    assert marker not in json.dumps(doors.events(str(victim)))
    # It went where a REST client's messages belong: its own REST conversation.
    sender = spoof(victim)["sender"]
    assert marker in json.dumps(doors.events(f"rest:{sender}"))


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param({"Authorization": "Bearer wrong-token-wrong-token-wrong-token"}, id="wrong"),
        pytest.param({"Authorization": "Basic dXNlcjpwYXNz"}, id="basic"),
    ],
)
def test_rest_without_the_token_is_refused_before_anything_is_kept(
    doors: Doors, headers: dict[str, str]
) -> None:
    sender = f"nokey-{uuid.uuid4().hex[:8]}"
    answer = doors.rest({"sender": sender, "message": "I want to die"}, headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"error": rest.BAD_TOKEN_TEXT}
    assert doors.events(f"rest:{sender}") == []


def test_rest_with_the_token_is_answered(doors: Doors) -> None:
    sender = f"key-{uuid.uuid4().hex[:8]}"
    answer = doors.rest({"sender": sender, "message": "hi"})
    assert answer.status_code == 200
    assert "I'm Secure Base" in answer.json()[0]["text"]
    assert answer.json()[0]["recipient_id"] == f"rest:{sender}"


def _forged_call(action: str, chat_id: int) -> dict[str, Any]:
    """What an attacker would POST to the action server: a made-up tracker for the victim."""
    return {
        "next_action": action,
        "sender_id": f"tg:{chat_id}",
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": f"tg:{chat_id}",
            "slots": {},
            "latest_message": {"text": "export my data", "intent": {"name": "export_my_data"}},
            "events": [
                {"event": "user", "text": "export my data", "input_channel": "telegram"},
            ],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-header"),
        pytest.param(
            {"Authorization": "Bearer not-the-action-token-not-the-action-token"}, id="wrong"
        ),
        pytest.param(None, id="the-rest-token"),
    ],
)
def test_the_action_server_runs_nothing_without_the_action_token(
    doors: Doors, victim: int, headers: dict[str, str] | None
) -> None:
    # The REST token opens the REST door only, not the action server.
    headers = doors.stack.rest_headers if headers is None else headers
    url = f"{doors.stack.action_url}/webhook"
    exported = requests.post(
        url, json=_forged_call("action_export_my_data", victim), headers=headers, timeout=60
    )
    assert exported.status_code == 401
    assert SECRET_ACTION not in exported.text
    erased = requests.post(
        url, json=_forged_call("action_delete_my_data", victim), headers=headers, timeout=60
    )
    assert erased.status_code == 401
    assert SECRET_ACTION in json.dumps(doors.journal_of_telegram_user(victim))
    listed = requests.get(f"{doors.stack.action_url}/actions", headers=headers, timeout=60)
    assert listed.status_code == 401


def test_the_forged_call_is_a_real_attack_when_it_carries_the_token(
    doors: Doors, victim: int
) -> None:
    # The control for the test above: the same body with Rasa's token does run the action, so a
    # 401 there is the lock and not a malformed request.
    token = doors.stack.env["SECURE_BASE_ACTION_TOKEN"]
    answer = requests.post(
        f"{doors.stack.action_url}/webhook",
        json=_forged_call("action_export_my_data", victim),
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert SECRET_ACTION in answer.text


def test_the_action_servers_health_stays_open(doors: Doors) -> None:
    answer = requests.get(f"{doors.stack.action_url}/health", timeout=30)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_rasa_reaches_the_action_server_with_its_token(doors: Doors, victim: int) -> None:
    # The Telegram user themself still gets their journal: Rasa -> action server works.
    doors.api.clear()
    doors.telegram(victim, "what do you remember about me?")
    sent = " ".join(str(c.params.get("text", "")) for c in doors.api.sent_to(victim))
    assert SECRET_ACTION in sent
