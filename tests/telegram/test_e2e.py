"""End to end: the real action server and Rasa server with the Telegram channel, talking to the
fake Bot API server (Telegram's own servers cannot be reached from tests).

One module-scoped stack (start-up is the slow part). It is started while the fake API is still
down, which is how these tests show that start-up never waits for Telegram; the fake comes up
afterwards and the channel's background registration reaches it. Every test talks from a chat
of its own, so the tests do not depend on each other.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.channels import failsafe
from bot.channels import telegram as tg
from bot.channels.ai_notice import is_notice_text, notice_text
from deploy.processes import free_port
from tests.e2e.servers import RasaStack
from tests.telegram.fake_bot_api import Call, FakeBotApi
from tests.telegram.updates import SECRET, TOKEN, blocked_update, callback_update, text_update

pytestmark = pytest.mark.server

WEBHOOK_URL = "https://bot.example.org/webhooks/telegram/webhook"
_chat_ids = itertools.count(880_001)


@dataclass
class TelegramStack:
    stack: RasaStack
    api: FakeBotApi
    answered_before_api_was_up: bool

    @property
    def webhook(self) -> str:
        return f"{self.stack.base_url}/webhooks/telegram/webhook"

    def post(self, update: Any, secret: str | None = SECRET, **kwargs: Any) -> requests.Response:
        headers = {tg.SECRET_HEADER: secret} if secret is not None else {}
        if isinstance(update, bytes):
            headers["Content-Type"] = "application/json"
            return requests.post(self.webhook, data=update, headers=headers, timeout=120, **kwargs)
        return requests.post(self.webhook, json=update, headers=headers, timeout=120, **kwargs)

    def sent(self, chat_id: int, method: str | None = None, *, notice: bool = False) -> list[Call]:
        """What the bot sent to one chat; every call must have been accepted by the API. The
        "program, not a person" notice of a chat's first message is left out unless asked."""
        calls = [
            c
            for c in self.api.calls(method)
            if str(c.params.get("chat_id")) == str(chat_id)
            and c.method != "answerCallbackQuery"
            and (notice or not is_notice_text(c.params.get("text")))
        ]
        refused = [(c.method, c.status, c.result) for c in calls if c.status != 200]
        assert refused == []
        return calls

    def user_intents(self, chat_id: int) -> list[str]:
        """The intents Rasa recognised in this chat, from the tracker (HTTP API)."""
        answer = requests.get(
            f"{self.stack.base_url}/conversations/tg:{chat_id}/tracker", timeout=60
        )
        answer.raise_for_status()
        return [
            e["parse_data"]["intent"]["name"]
            for e in answer.json()["events"]
            if e["event"] == "user"
        ]


@pytest.fixture(scope="module")
def telegram(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TelegramStack]:
    api = FakeBotApi(TOKEN, port=free_port())  # not started yet: Telegram is "down"
    env = {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
        "TELEGRAM_API_URL": api.url,
    }
    workdir: Path = tmp_path_factory.mktemp("telegram-e2e")
    stack = RasaStack(
        {"bot.channels.telegram.SecureTelegramInput": None},
        workdir,
        env=env,
        rasa_args=("--enable-api",),
    )
    stack.start()  # returns once the Rasa server answers HTTP
    try:
        health = requests.get(f"{stack.base_url}/webhooks/telegram/", timeout=30)
        answered = health.status_code == 200 and health.json() == {"status": "ok"}
        api.start()
        try:
            yield TelegramStack(stack, api, answered_before_api_was_up=answered)
        finally:
            api.stop()
    finally:
        stack.stop()


def new_chat() -> int:
    return next(_chat_ids)


def test_start_up_does_not_wait_for_telegram_and_registers_the_webhook_later(
    telegram: TelegramStack,
) -> None:
    assert telegram.answered_before_api_was_up
    calls = telegram.api.wait_for(lambda cs: any(c.method == "setWebhook" for c in cs))
    (register,) = [c for c in calls if c.method == "setWebhook"]
    assert register.params == {
        "url": WEBHOOK_URL,
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query"],
        "drop_pending_updates": False,
    }
    log = (telegram.stack.workdir / "rasa.log").read_text(errors="replace")
    assert "telegram setWebhook attempt 1 failed" in log
    assert TOKEN not in log
    assert SECRET not in log


def test_start_greets_with_an_inline_keyboard(telegram: TelegramStack) -> None:
    chat = new_chat()
    answer = telegram.post(text_update("/start", chat_id=chat))
    assert answer.status_code == 200
    messages = telegram.sent(chat, "sendMessage")
    assert len(messages) >= 1
    greeting = messages[0].params
    assert greeting["text"].startswith("Hi! I guide short self-help exercises")
    # The menu's keyboard, then the consent question's (asked once, after the greeting).
    keyboards = [
        m.params["reply_markup"]["inline_keyboard"] for m in messages if "reply_markup" in m.params
    ]
    payloads = [button["callback_data"] for k in keyboards for row in k for button in row]
    assert "/start_wise_mind" in payloads
    assert payloads[-2:] == ["/keep_my_answers", "/stop_keeping_answers"]
    assert all(len(p.encode()) <= 64 for p in payloads)
    assert telegram.user_intents(chat) == ["greet"]


def test_the_first_message_gets_the_ai_notice_first_and_the_second_does_not(
    telegram: TelegramStack,
) -> None:
    chat = new_chat()
    telegram.post(text_update("/start", chat_id=chat))
    first = [c.params["text"] for c in telegram.sent(chat, "sendMessage", notice=True)]
    assert first[0] == notice_text() and first.count(notice_text()) == 1
    assert first[1].startswith("Hi! I guide short self-help exercises")
    telegram.post(text_update("what is codependency?", chat_id=chat))
    texts = [c.params["text"] for c in telegram.sent(chat, "sendMessage", notice=True)]
    assert len(texts) > len(first) and texts.count(notice_text()) == 1


def test_a_button_press_is_acknowledged_and_leads_to_the_next_step(
    telegram: TelegramStack,
) -> None:
    chat = new_chat()
    telegram.post(text_update("/start", chat_id=chat))
    menu = telegram.sent(chat, "sendMessage")[-1]
    keyboard = menu.params["reply_markup"]["inline_keyboard"]
    before = len(telegram.api.calls())

    press = callback_update("/start_wise_mind", menu.result["message_id"], keyboard, chat_id=chat)
    assert telegram.post(press).status_code == 200

    after = telegram.api.calls()[before:]
    methods = [c.method for c in after]
    assert methods[0] == "answerCallbackQuery"
    assert after[0].params["callback_query_id"] == press["callback_query"]["id"]
    assert "editMessageReplyMarkup" in methods
    next_steps = [c for c in after if c.method == "sendMessage"]
    assert next_steps
    assert all(c.params["text"] != failsafe.APOLOGY_TEXT for c in next_steps)
    assert telegram.user_intents(chat) == ["greet", "start_wise_mind"]


def test_a_crisis_message_gets_the_crisis_resources(telegram: TelegramStack) -> None:
    chat = new_chat()
    assert telegram.post(text_update("I want to kill myself tonight", chat_id=chat)).ok
    texts = [c.params["text"] for c in telegram.sent(chat, "sendMessage")]
    assert any("988" in text for text in texts)


def test_a_crisis_message_typed_as_a_command_still_gets_the_resources(
    telegram: TelegramStack,
) -> None:
    chat = new_chat()
    assert telegram.post(text_update("/greet I want to kill myself", chat_id=chat)).ok
    texts = [c.params["text"] for c in telegram.sent(chat, "sendMessage")]
    assert any("988" in text for text in texts)


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET[:-1]])
def test_a_forged_request_is_refused_and_nothing_is_sent(
    telegram: TelegramStack, secret: str | None
) -> None:
    chat = new_chat()
    answer = telegram.post(text_update("/start", chat_id=chat), secret=secret)
    assert answer.status_code == 403
    assert telegram.sent(chat) == []
    assert telegram.user_intents(chat) == []


def test_the_same_update_twice_is_answered_once(telegram: TelegramStack) -> None:
    chat = new_chat()
    update = text_update("/start", chat_id=chat)
    first = telegram.post(update)
    sent_once = len(telegram.sent(chat))
    second = telegram.post(update)
    assert (first.json(), second.json()) == ({"status": "ok"}, {"status": "duplicate"})
    assert len(telegram.sent(chat)) == sent_once
    assert telegram.user_intents(chat) == ["greet"]


@pytest.mark.parametrize(
    "kind",
    ["edited_message", "my_chat_member", "channel_post", "poll", "group_message"],
)
def test_update_kinds_we_do_not_handle_are_acknowledged(telegram: TelegramStack, kind: str) -> None:
    chat = new_chat()
    message = text_update("hello", chat_id=chat)
    updates = {
        "edited_message": {"update_id": message["update_id"], "edited_message": message["message"]},
        "my_chat_member": blocked_update(chat, update_id=message["update_id"]),
        "channel_post": {
            "update_id": message["update_id"],
            "channel_post": {**message["message"], "chat": {"id": chat, "type": "channel"}},
        },
        "poll": {
            "update_id": message["update_id"],
            "poll": {"id": "1", "question": "?", "options": [], "is_closed": True},
        },
        "group_message": {
            "update_id": message["update_id"],
            "message": {**message["message"], "chat": {"id": chat, "type": "group"}},
        },
    }
    answer = telegram.post(updates[kind])
    assert answer.status_code == 200
    assert answer.json() == {"status": "ignored"}
    assert telegram.sent(chat) == []
    assert telegram.user_intents(chat) == []


def test_a_sticker_gets_a_polite_note(telegram: TelegramStack) -> None:
    chat = new_chat()
    sticker = {"file_id": "CAACAgIAAx", "file_unique_id": "AgAD", "width": 512, "height": 512}
    update = text_update("", chat_id=chat, sticker=sticker)
    assert telegram.post(update).status_code == 200
    assert [c.params["text"] for c in telegram.sent(chat, "sendMessage")] == [tg.UNREADABLE_TEXT]
    assert telegram.user_intents(chat) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"update_id": 1, "message": ', 400),
        (b"\x00\xff not json at all", 400),
        (json.dumps({"update_id": 5, "message": {"text": "x" * (1024 * 1024)}}).encode(), 413),
    ],
)
def test_malformed_and_huge_bodies_get_a_quiet_4xx(
    telegram: TelegramStack, body: bytes, status: int
) -> None:
    before = len(telegram.api.calls())
    answer = telegram.post(body)
    assert answer.status_code == status
    assert len(telegram.api.calls()) == before
    assert requests.get(f"{telegram.stack.base_url}/", timeout=30).status_code == 200


def test_a_huge_body_without_the_secret_is_refused_first(telegram: TelegramStack) -> None:
    answer = telegram.post(b"x" * (1024 * 1024), secret=None)
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("command", "intent"),
    [("/help", "ask_help"), ("/stop", "stop_exercise")],
)
def test_commands_are_answered(telegram: TelegramStack, command: str, intent: str) -> None:
    chat = new_chat()
    assert telegram.post(text_update(command, chat_id=chat)).status_code == 200
    texts = [c.params["text"] for c in telegram.sent(chat, "sendMessage")]
    assert texts
    assert failsafe.APOLOGY_TEXT not in texts
    assert telegram.user_intents(chat) == [intent]


def test_stop_inside_an_exercise_leaves_it(telegram: TelegramStack) -> None:
    chat = new_chat()
    telegram.post(text_update("/start", chat_id=chat))
    menu = telegram.sent(chat, "sendMessage")[-1]
    keyboard = menu.params["reply_markup"]["inline_keyboard"]
    telegram.post(
        callback_update("/start_wise_mind", menu.result["message_id"], keyboard, chat_id=chat)
    )
    before = len(telegram.sent(chat, "sendMessage"))
    assert telegram.post(text_update("/stop", chat_id=chat)).status_code == 200
    after = telegram.sent(chat, "sendMessage")[before:]
    assert after
    assert telegram.user_intents(chat) == ["greet", "start_wise_mind", "stop_exercise"]


def test_a_journal_export_arrives_as_a_json_document(telegram: TelegramStack) -> None:
    chat = new_chat()
    assert telegram.post(text_update("export my data", chat_id=chat)).status_code == 200
    (document,) = telegram.sent(chat, "sendDocument")
    filename, content = document.files["document"]
    assert filename.endswith(".json")
    assert isinstance(json.loads(content), dict)
    assert telegram.user_intents(chat) == ["export_my_data"]


def test_delete_asks_first_and_a_button_confirms(telegram: TelegramStack) -> None:
    chat = new_chat()
    assert telegram.post(text_update("/delete", chat_id=chat)).status_code == 200
    question = telegram.sent(chat, "sendMessage")[-1]
    keyboard = question.params["reply_markup"]["inline_keyboard"]
    payloads = [button["callback_data"] for row in keyboard for button in row]
    assert "/confirm_delete" in payloads
    before = len(telegram.sent(chat, "sendMessage"))
    press = callback_update(
        "/confirm_delete", question.result["message_id"], keyboard, chat_id=chat
    )
    assert telegram.post(press).status_code == 200
    after = [c.params["text"] for c in telegram.sent(chat, "sendMessage")[before:]]
    assert after
    assert failsafe.APOLOGY_TEXT not in after


# --- the safety plan (issue 18) ------------------------------------------------------------------


def _press_last(telegram: TelegramStack, chat: int, payload_end: str) -> None:
    """Press the button whose payload ends with ``payload_end`` on the newest keyboard that
    has one."""
    for message in reversed(telegram.sent(chat, "sendMessage")):
        keyboard = message.params.get("reply_markup", {}).get("inline_keyboard", [])
        found = [b["callback_data"] for row in keyboard for b in row]
        found = [data for data in found if data.endswith(payload_end)]
        if found:
            press = callback_update(found[0], message.result["message_id"], keyboard, chat_id=chat)
            assert telegram.post(press).status_code == 200
            return
    raise AssertionError(f"no button ending in {payload_end!r} in chat {chat}")


def _texts_since(telegram: TelegramStack, chat: int, before: int) -> list[str]:
    return [c.params["text"] for c in telegram.sent(chat, "sendMessage")[before:]]


def test_a_safety_plan_built_with_the_inline_keyboard_comes_back_under_a_crisis_answer(
    telegram: TelegramStack,
) -> None:
    from bot.exercises import safety_plan as sp
    from bot.safety import resources

    chat = new_chat()
    telegram.post(text_update("/start", chat_id=chat))
    _press_last(telegram, chat, "/keep_my_answers")
    telegram.post(text_update("make a safety plan", chat_id=chat))
    telegram.post(text_update("cant sleep, snapping at people", chat_id=chat))
    telegram.post(text_update("walk the dog, my playlist", chat_id=chat))
    _press_last(telegram, chat, '"skip"}')  # step 3, by its button
    telegram.post(text_update("Mia 07700 900123", chat_id=chat))
    _press_last(telegram, chat, '"skip"}')  # step 5: "That's all"
    before = len(telegram.sent(chat, "sendMessage"))
    _press_last(telegram, chat, '"done"}')
    summary = _texts_since(telegram, chat, before)
    # One message holds the whole plan.
    assert summary[0].startswith(sp.texts().text("summary.title"))
    assert "• walk the dog" in summary[0] and "• Mia 07700 900123" in summary[0]
    assert sp.texts().text("summary.saved") in summary

    # Pinned only when the user taps "Pin it in this chat": the plan, pinned quietly.
    assert telegram.sent(chat, "pinChatMessage") == []
    before = len(telegram.sent(chat, "sendMessage"))
    _press_last(telegram, chat, "/pin_safety_plan")
    sent = telegram.sent(chat, "sendMessage")[before:]
    (pin,) = [c for c in telegram.sent(chat, "pinChatMessage")]
    assert sent[0].params["text"] == summary[0]
    assert pin.params["message_id"] == sent[0].result["message_id"]
    assert sent[1].params["text"] == html.escape(sp.texts().text("pin.done"), quote=False)

    before = len(telegram.sent(chat, "sendMessage"))
    assert telegram.post(text_update("I want to kill myself tonight", chat_id=chat)).ok
    crisis = telegram.sent(chat, "sendMessage")[before:]
    static = resources.crisis_messages(None)[0]
    # The channel sends HTML: the static text arrives exactly as it is, escaped.
    assert crisis[0].params["text"] == html.escape(static["text"], quote=False)
    buttons = crisis[0].params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for row in buttons for b in row] == ["/confirm_safe", "/deny_safe"]
    own = crisis[1].params["text"]
    assert own.startswith(sp.texts().text("crisis.intro"))
    assert "• walk the dog" in own and "• Mia 07700 900123" in own and "cant sleep" not in own
    assert len(crisis) == 2


def test_on_telegram_a_crisis_mid_plan_is_not_kept_and_a_plan_is_shown_edited_and_deleted(
    telegram: TelegramStack,
) -> None:
    from bot.exercises import safety_plan as sp

    book = sp.texts()
    chat = new_chat()
    telegram.post(text_update("/start", chat_id=chat))
    _press_last(telegram, chat, "/keep_my_answers")

    # A crisis message while the plan asks: the resources, and it is never an answer.
    telegram.post(text_update("make a safety plan", chat_id=chat))
    before = len(telegram.sent(chat, "sendMessage"))
    telegram.post(text_update("honestly i just want to die", chat_id=chat))
    crisis = _texts_since(telegram, chat, before)
    assert any("988" in text for text in crisis)
    assert html.escape(book.text("ask.sp_coping"), quote=False) not in crisis
    _press_last(telegram, chat, "/confirm_safe")
    before = len(telegram.sent(chat, "sendMessage"))
    telegram.post(text_update("show my safety plan", chat_id=chat))
    assert _texts_since(telegram, chat, before) == [
        html.escape(book.text("show.none"), quote=False)
    ]

    # Built, shown, one step changed with its button.
    telegram.post(text_update("make a safety plan", chat_id=chat))
    for answer in ("cant sleep", "walk the dog", "the library", "Mia 07700 900123"):
        telegram.post(text_update(answer, chat_id=chat))
    _press_last(telegram, chat, '"skip"}')  # step 5: "That's all"
    _press_last(telegram, chat, '"later"}')
    telegram.post(text_update("show my safety plan", chat_id=chat))
    before = len(telegram.sent(chat, "sendMessage"))
    _press_last(telegram, chat, '"plan_step":"2"}')
    asked = _texts_since(telegram, chat, before)
    assert asked[0] == html.escape(book.text("edit.start", number=2), quote=False)
    before = len(telegram.sent(chat, "sendMessage"))
    telegram.post(text_update("bake something", chat_id=chat))
    edited = " ".join(_texts_since(telegram, chat, before))
    assert "• bake something" in edited and "walk the dog" not in edited
    assert "• Mia 07700 900123" in edited

    # Deleted with everything else: "show" finds none again.
    telegram.post(text_update("/delete", chat_id=chat))
    _press_last(telegram, chat, "/confirm_delete")
    before = len(telegram.sent(chat, "sendMessage"))
    telegram.post(text_update("show my safety plan", chat_id=chat))
    assert _texts_since(telegram, chat, before) == [
        html.escape(book.text("show.none"), quote=False)
    ]
