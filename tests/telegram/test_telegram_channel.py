"""The Telegram channel over real HTTP against the fake Bot API server, without Rasa.

The dialogue is stood in for by a small handler that answers through the output channel the
way Rasa's agent does; the fail-safe and the crisis detector around it are the real ones.
``test_e2e.py`` runs the same paths through the real Rasa server.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage

from bot.channels import telegram as tg
from deploy.processes import free_port
from tests.telegram.fake_bot_api import FakeBotApi, _check_html
from tests.telegram.updates import (
    SECRET,
    TOKEN,
    USER_ID,
    blocked_update,
    callback_update,
    text_update,
)

# The "program, not a person" notice is not what these tests are about (test_ai_notice.py).
pytestmark = pytest.mark.usefixtures("notice_seen")

KNOWN_INTENTS = frozenset({"greet", "ask_help", "stop_exercise", "delete_my_data", "affirm"})
HEADERS = {tg.SECRET_HEADER: SECRET}


class EchoDialogue:
    """Stands in for Rasa's agent: records what it was given and answers through the channel."""

    def __init__(self, answer: dict[str, Any] | None = None, fail: bool = False) -> None:
        self.received: list[UserMessage] = []
        self.answer = answer
        self.fail = fail

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.fail:
            raise RuntimeError("the dialogue broke")
        answer = self.answer or {"text": f"you said: {message.text}"}
        await message.output_channel.send_response(message.sender_id, dict(answer))


def make_channel(api: FakeBotApi, **kwargs: Any) -> tg.SecureTelegramInput:
    settings = tg.TelegramSettings(
        TOKEN, SECRET, "https://bot.example.org/webhooks/telegram/webhook", api.url
    )
    return tg.SecureTelegramInput(settings, known_intents=KNOWN_INTENTS, **kwargs)


async def post(
    channel: tg.SecureTelegramInput,
    update: Any,
    dialogue: EchoDialogue,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    try:
        return await channel.handle_request(HEADERS if headers is None else headers, body, dialogue)
    finally:
        await channel._client.close()


def texts_sent(api: FakeBotApi) -> list[str]:
    return [c.params["text"] for c in api.calls("sendMessage") if c.status == 200]


# -- webhook registration -------------------------------------------------------------------


async def test_registration_sends_url_secret_and_update_kinds(fake_api: FakeBotApi) -> None:
    channel = make_channel(fake_api)
    try:
        assert await channel.register_webhook() is True
    finally:
        await channel._client.close()
    (call,) = fake_api.calls("setWebhook")
    assert call.params == {
        "url": "https://bot.example.org/webhooks/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "edited_message", "callback_query"],
        "drop_pending_updates": False,
    }
    (commands,) = fake_api.calls("setMyCommands")
    names = [c["command"] for c in commands.params["commands"]]
    assert names == ["start", "help", "stop", "delete"]


async def test_registration_retries_until_the_api_is_reachable() -> None:
    port = free_port()
    api = FakeBotApi(TOKEN, port=port)
    channel = tg.SecureTelegramInput(
        tg.TelegramSettings(TOKEN, SECRET, "https://bot.example.org/hook", api.url),
        known_intents=KNOWN_INTENTS,
        retry_initial_seconds=0.05,
        retry_max_seconds=0.2,
    )
    task = asyncio.create_task(channel.register_webhook())
    await asyncio.sleep(0.3)  # let a few attempts fail against the closed port
    assert not task.done()
    api.start()
    try:
        assert await asyncio.wait_for(task, 30) is True
        assert len(api.calls("setWebhook")) == 1
    finally:
        await channel._client.close()
        api.stop()


async def test_registration_waits_out_a_rate_limit(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("setWebhook", 429, "Too Many Requests: retry after 1", retry_after=1)
    channel = make_channel(fake_api, retry_initial_seconds=0.01)
    try:
        assert await asyncio.wait_for(channel.register_webhook(), 30) is True
    finally:
        await channel._client.close()
    assert [c.status for c in fake_api.calls("setWebhook")] == [429, 200]


async def test_registration_gives_up_on_a_refused_token(fake_api: FakeBotApi) -> None:
    settings = tg.TelegramSettings(
        "999:wrong", SECRET, "https://bot.example.org/hook", fake_api.url
    )
    channel = tg.SecureTelegramInput(settings, known_intents=KNOWN_INTENTS)
    try:
        assert await channel.register_webhook() is False
    finally:
        await channel._client.close()
    assert [c.status for c in fake_api.calls("setWebhook")] == [401]


async def test_registration_gives_up_on_a_refused_url(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided")
    channel = make_channel(fake_api)
    try:
        assert await channel.register_webhook() is False
    finally:
        await channel._client.close()
    assert len(fake_api.calls("setWebhook")) == 1


async def test_no_webhook_url_means_no_registration(fake_api: FakeBotApi) -> None:
    settings = tg.TelegramSettings(TOKEN, SECRET, None, fake_api.url)
    channel = tg.SecureTelegramInput(settings, known_intents=KNOWN_INTENTS)
    assert await channel.register_webhook() is False
    assert fake_api.calls() == []


# -- requests -------------------------------------------------------------------------------


async def test_a_message_reaches_the_dialogue_and_the_answer_reaches_telegram(
    fake_api: FakeBotApi,
) -> None:
    dialogue = EchoDialogue()
    status, body = await post(make_channel(fake_api), text_update("hello"), dialogue)
    assert (status, body) == (200, {"status": "ok"})
    (message,) = dialogue.received
    assert message.text == "hello"
    # The channel, not the client, names the sender: tg:<chat id> (bot/sender_ids.py).
    assert message.sender_id == f"tg:{USER_ID}"
    assert message.input_channel == "telegram"
    assert texts_sent(fake_api) == ["you said: hello"]
    assert fake_api.calls("getMe") == []


@pytest.mark.parametrize("headers", [{}, {tg.SECRET_HEADER: "wrong"}, {"X-Other": SECRET}])
async def test_a_forged_request_is_refused_and_nothing_is_done(
    fake_api: FakeBotApi, headers: dict[str, str]
) -> None:
    dialogue = EchoDialogue()
    status, _ = await post(make_channel(fake_api), text_update("hello"), dialogue, headers)
    assert status == 403
    assert dialogue.received == []
    assert fake_api.calls() == []


async def test_the_same_update_twice_is_answered_once(fake_api: FakeBotApi) -> None:
    channel = make_channel(fake_api)
    dialogue = EchoDialogue()
    update = text_update("hello")
    assert await post(channel, update, dialogue) == (200, {"status": "ok"})
    assert await post(channel, update, dialogue) == (200, {"status": "duplicate"})
    assert len(dialogue.received) == 1
    assert len(texts_sent(fake_api)) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"\xff\xfe\x00", 400),
        (b"x" * (1024 * 1024), 413),
        (json.dumps({"update_id": 1, "message": {"text": "x" * 1_000_000}}).encode(), 413),
    ],
)
async def test_malformed_and_oversized_bodies_are_refused_quietly(
    fake_api: FakeBotApi, body: bytes, status: int
) -> None:
    dialogue = EchoDialogue()
    assert (await post(make_channel(fake_api), body, dialogue))[0] == status
    assert dialogue.received == []
    assert fake_api.calls() == []


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 11, "edited_message": text_update("changed")["message"]},
        blocked_update(update_id=12),
        {"update_id": 13, "channel_post": {"message_id": 1, "chat": {"id": -1, "type": "channel"}}},
        {"update_id": 14, "poll_answer": {"poll_id": "1", "option_ids": [0]}},
        [1, 2, 3],
        {"no": "update id"},
    ],
)
async def test_other_update_kinds_are_acknowledged_and_ignored(
    fake_api: FakeBotApi, update: Any
) -> None:
    dialogue = EchoDialogue()
    assert await post(make_channel(fake_api), update, dialogue) == (200, {"status": "ignored"})
    assert dialogue.received == []
    assert fake_api.calls() == []


async def test_a_sticker_gets_a_polite_note(fake_api: FakeBotApi) -> None:
    dialogue = EchoDialogue()
    update = text_update("", sticker={"file_id": "s", "width": 512, "height": 512})
    assert (await post(make_channel(fake_api), update, dialogue))[0] == 200
    assert dialogue.received == []
    assert texts_sent(fake_api) == [tg.UNREADABLE_TEXT]


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        ("/start", "/greet"),
        ("/help", "/ask_help"),
        ("/stop", "/stop_exercise"),
        ("/delete", "/delete_my_data"),
    ],
)
async def test_commands_reach_the_dialogue_as_intents(
    fake_api: FakeBotApi, command: str, payload: str
) -> None:
    dialogue = EchoDialogue()
    await post(make_channel(fake_api), text_update(command), dialogue)
    assert [m.text for m in dialogue.received] == [payload]


async def test_typed_intent_syntax_is_read_as_words(fake_api: FakeBotApi) -> None:
    dialogue = EchoDialogue()
    await post(make_channel(fake_api), text_update('/affirm{"x": 1} no'), dialogue)
    assert [m.text for m in dialogue.received] == ['affirm{"x": 1} no']


async def test_a_button_press_stops_the_spinner_and_feeds_the_payload(
    fake_api: FakeBotApi,
) -> None:
    dialogue = EchoDialogue()
    keyboard = [[{"text": "Yes", "callback_data": "/affirm"}]]
    update = callback_update("/affirm", 555, keyboard)
    assert (await post(make_channel(fake_api), update, dialogue))[0] == 200
    methods = [c.method for c in fake_api.calls()]
    assert methods == ["answerCallbackQuery", "editMessageReplyMarkup", "sendMessage"]
    answer = fake_api.calls("answerCallbackQuery")[0]
    assert answer.params["callback_query_id"] == update["callback_query"]["id"]
    edit = fake_api.calls("editMessageReplyMarkup")[0]
    assert edit.params["message_id"] == 555
    assert edit.params["reply_markup"] == {"inline_keyboard": []}
    assert [m.text for m in dialogue.received] == ["/affirm"]


async def test_a_long_payload_round_trips_through_a_short_id(fake_api: FakeBotApi) -> None:
    channel = make_channel(fake_api)
    payload = '/affirm{"value": "' + "being honest with myself " * 3 + '"}'
    dialogue = EchoDialogue(
        answer={"text": "Pick", "buttons": [{"title": "This", "payload": payload}]}
    )
    await post(channel, text_update("hi"), dialogue)
    sent = fake_api.calls("sendMessage")[0]
    data = sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64
    press = EchoDialogue()
    await post(
        channel, callback_update(data, 9, sent.params["reply_markup"]["inline_keyboard"]), press
    )
    assert [m.text for m in press.received] == [payload]


async def test_an_expired_button_reads_as_its_title(fake_api: FakeBotApi) -> None:
    dialogue = EchoDialogue()
    keyboard = [[{"text": "Honesty", "callback_data": "#expiredid123"}]]
    await post(make_channel(fake_api), callback_update("#expiredid123", 9, keyboard), dialogue)
    assert [m.text for m in dialogue.received] == ["Honesty"]


async def test_a_forged_button_payload_is_read_as_words(fake_api: FakeBotApi) -> None:
    dialogue = EchoDialogue()
    update = callback_update("/restart", 9, [[{"text": "x", "callback_data": "/restart"}]])
    await post(make_channel(fake_api), update, dialogue)
    assert [m.text for m in dialogue.received] == ["restart"]


async def test_when_the_dialogue_fails_the_user_still_gets_an_answer(
    fake_api: FakeBotApi,
) -> None:
    status, _ = await post(make_channel(fake_api), text_update("hello"), EchoDialogue(fail=True))
    assert status == 200
    assert len(texts_sent(fake_api)) == 1


async def test_a_crisis_message_gets_resources_even_when_the_dialogue_fails(
    fake_api: FakeBotApi,
) -> None:
    update = text_update("/greet I want to kill myself")
    status, _ = await post(make_channel(fake_api), update, EchoDialogue(fail=True))
    assert status == 200
    assert any("988" in text for text in texts_sent(fake_api))


async def test_when_telegram_is_down_the_request_still_gets_200() -> None:
    api = FakeBotApi(TOKEN, port=free_port())  # never started
    dialogue = EchoDialogue()
    assert (await post(make_channel(api), text_update("hello"), dialogue))[0] == 200
    assert len(dialogue.received) == 1


async def test_inactive_channel_answers_503_and_does_nothing() -> None:
    channel = tg.SecureTelegramInput(None)
    dialogue = EchoDialogue()
    status, body = await channel.handle_request(HEADERS, b"{}", dialogue)
    assert (status, body) == (503, {"status": "inactive"})
    assert dialogue.received == []


# -- what the output channel sends ----------------------------------------------------------


async def test_buttons_become_an_inline_keyboard(fake_api: FakeBotApi) -> None:
    answer = {
        "text": "How would you like to start?",
        "buttons": [
            {"title": "A wise-mind pause", "payload": "/greet"},
            {"title": "Practise saying no", "payload": "/help"},
        ],
    }
    await post(make_channel(fake_api), text_update("hi"), EchoDialogue(answer=answer))
    (call,) = fake_api.calls("sendMessage")
    assert call.params["text"] == "How would you like to start?"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "A wise-mind pause", "callback_data": "/greet"}],
            [{"text": "Practise saying no", "callback_data": "/help"}],
        ]
    }


async def test_markdown_is_rendered_not_shown(fake_api: FakeBotApi) -> None:
    answer = {"text": "**Describe** what happened, *only* the facts & nothing < more"}
    await post(make_channel(fake_api), text_update("hi"), EchoDialogue(answer=answer))
    (call,) = fake_api.calls("sendMessage")
    assert call.params["parse_mode"] == "HTML"
    assert "*" not in call.params["text"]
    assert call.params["text"] == (
        "<b>Describe</b> what happened, <i>only</i> the facts &amp; nothing &lt; more"
    )


async def test_refused_html_is_resent_as_plain_text(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", 400, "Bad Request: can't parse entities: unexpected")
    answer = {"text": "**Assert** your request"}
    await post(make_channel(fake_api), text_update("hi"), EchoDialogue(answer=answer))
    first, second = fake_api.calls("sendMessage")
    assert first.status == 400
    assert second.status == 200
    assert second.params["text"] == "Assert your request"
    assert "parse_mode" not in second.params


async def test_a_blocked_bot_is_logged_not_raised(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    dialogue = EchoDialogue()
    assert (await post(make_channel(fake_api), text_update("hi"), dialogue))[0] == 200
    assert len(dialogue.received) == 1


async def test_a_long_text_is_split_and_the_keyboard_goes_last(fake_api: FakeBotApi) -> None:
    text = "\n\n".join(f"Step {i}. " + "breathe and notice " * 40 for i in range(12))
    answer = {"text": text, "buttons": [{"title": "Done", "payload": "/affirm"}]}
    await post(make_channel(fake_api), text_update("hi"), EchoDialogue(answer=answer))
    calls = fake_api.calls("sendMessage")
    assert len(calls) > 1
    assert all(c.status == 200 for c in calls)
    assert [("reply_markup" in c.params) for c in calls] == [False] * (len(calls) - 1) + [True]
    assert " ".join(c.params["text"] for c in calls).split() == text.split()


async def test_a_journal_export_arrives_as_a_document(fake_api: FakeBotApi) -> None:
    content = json.dumps({"entries": [{"date": "2026-11-02", "text": "I said no, kindly."}]})
    answer = {"custom": {"document": {"filename": "my-journal.json", "content": content}}}
    await post(make_channel(fake_api), text_update("export"), EchoDialogue(answer=answer))
    (call,) = fake_api.calls("sendDocument")
    assert call.status == 200
    assert str(call.params["chat_id"]) == str(USER_ID)
    assert call.files["document"] == ("my-journal.json", content.encode())
    assert fake_api.calls("sendMessage") == []


async def test_a_text_to_pin_is_sent_then_pinned_quietly(fake_api: FakeBotApi) -> None:
    answer = {"custom": {"pin": {"text": "Your safety plan\n1. Warning signs\n• cant sleep"}}}
    await post(make_channel(fake_api), text_update("/pin_safety_plan"), EchoDialogue(answer=answer))
    (sent,) = fake_api.calls("sendMessage")
    (pinned,) = fake_api.calls("pinChatMessage")
    assert sent.params["text"].startswith("Your safety plan") and pinned.status == 200
    assert pinned.params["message_id"] == sent.result["message_id"]
    assert pinned.params["disable_notification"] is True


async def test_a_refused_message_is_not_pinned(fake_api: FakeBotApi) -> None:
    fake_api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    answer = {"custom": {"pin": {"text": "Your safety plan"}}}
    await post(make_channel(fake_api), text_update("/pin_safety_plan"), EchoDialogue(answer=answer))
    assert fake_api.calls("pinChatMessage") == []


async def test_custom_json_without_a_document_is_not_shown_raw(fake_api: FakeBotApi) -> None:
    answer = {"custom": {"some": "internal", "thing": 1}}
    dialogue = EchoDialogue(answer=answer)
    await post(make_channel(fake_api), text_update("hi"), dialogue)
    assert fake_api.calls("sendMessage") == []
    assert fake_api.calls("sendDocument") == []


_FRAGMENTS = list("ab *_[]()<>&\n:/.\"'é") + ["http://x.org", "**", "](", "&amp;", "<b>"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_rendered_html_is_always_valid_for_telegram(text: str) -> None:
    error, _visible = _check_html(tg.render_html(text))
    assert error is None


async def test_a_progress_picture_is_uploaded_as_a_photo_with_its_alt_as_caption(
    fake_api: FakeBotApi,
) -> None:
    from datetime import datetime, timezone

    from bot.progress import history, pictures

    day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    pauses = history.pauses([(day, 8, 4), (day.replace(day=3), 6, 5)])
    picture = pictures.wise_mind_picture(pauses, pictures.texts())
    answer = {"text": picture.summary, "image": picture.data_url, "alt": picture.alt}
    await post(make_channel(fake_api), text_update("show my progress"), EchoDialogue(answer))
    assert texts_sent(fake_api) == [picture.summary]
    (photo,) = fake_api.calls("sendPhoto")
    assert photo.status == 200
    assert str(photo.params["chat_id"]) == str(USER_ID)
    assert photo.params["caption"] == picture.alt
    # The bytes themselves, uploaded: no link that anyone could open.
    assert photo.files["photo"] == ("progress.png", picture.png)
    assert "photo" not in photo.params


async def test_an_image_that_is_not_an_inline_png_is_never_uploaded(fake_api: FakeBotApi) -> None:
    answer = {"image": "data:image/png;base64,bm90IGEgcG5n", "alt": "x"}  # "not a png"
    await post(make_channel(fake_api), text_update("hi"), EchoDialogue(answer))
    assert fake_api.calls("sendPhoto") == []
