"""Unit tests for the pure parts of the Telegram channel: settings, secret check, de-duplication,
update parsing, keyboards, callback data and text rendering. No network here."""

from __future__ import annotations

import logging

import pytest

from bot.channels import telegram as tg
from bot.secrets import SecretError

TOKEN = "123456789:AAExampleToken_with-dashes"
SECRET = "a-Secret_value-123_QRSTUVWXYZ_456789"


def _message_update(update_id: int = 1, chat_type: str = "private", **message: object) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 10,
            "from": {"id": 42, "is_bot": False, "first_name": "Sam", "language_code": "en"},
            "chat": {"id": 42, "type": chat_type},
            "date": 1_700_000_000,
            **message,
        },
    }


def _callback_update(data: str, update_id: int = 2, keyboard: list | None = None) -> dict:
    message: dict = {
        "message_id": 77,
        "from": {"id": 7000000001, "is_bot": True, "first_name": "Secure Base"},
        "chat": {"id": 42, "type": "private"},
        "date": 1_700_000_000,
        "text": "Pick one",
    }
    if keyboard is not None:
        message["reply_markup"] = {"inline_keyboard": keyboard}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": "cbq-1",
            "from": {"id": 42, "is_bot": False, "first_name": "Sam"},
            "chat_instance": "-1",
            "message": message,
            "data": data,
        },
    }


# -- settings -------------------------------------------------------------------------------


def test_settings_come_from_the_environment() -> None:
    env = {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_SECRET": SECRET,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/webhooks/telegram/webhook",
    }
    settings = tg.TelegramSettings.load(None, env)
    assert settings.token == TOKEN
    assert settings.secret == SECRET
    assert settings.webhook_url == "https://bot.example.org/webhooks/telegram/webhook"
    assert settings.api_url == "https://api.telegram.org"


def test_credentials_win_over_the_environment_and_blank_ones_do_not() -> None:
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET": SECRET, "TELEGRAM_API_URL": "http://x:1"}
    creds = {
        "secret": "other-secret_0123456789_ABCDEFGHIJ",
        "token": "",
        "api_url": "http://127.0.0.1:8081",
    }
    settings = tg.TelegramSettings.load(creds, env)
    assert settings.secret == "other-secret_0123456789_ABCDEFGHIJ"
    assert settings.token == TOKEN
    assert settings.api_url == "http://127.0.0.1:8081"
    assert settings.webhook_url is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TELEGRAM_SECRET": SECRET}, "no bot token"),
        ({"TELEGRAM_TOKEN": "not-a-token", "TELEGRAM_SECRET": SECRET}, "malformed"),
        ({"TELEGRAM_TOKEN": "12:ab cd", "TELEGRAM_SECRET": SECRET}, "malformed"),
        ({"TELEGRAM_TOKEN": TOKEN}, "no webhook secret"),
        ({"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET": "has space"}, "TELEGRAM_SECRET"),
        ({"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET": "x" * 257}, "TELEGRAM_SECRET"),
        (
            {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET": SECRET, "TELEGRAM_API_URL": "ftp://x"},
            "TELEGRAM_API_URL",
        ),
        (
            {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET": SECRET, "TELEGRAM_WEBHOOK_URL": "x.org"},
            "TELEGRAM_WEBHOOK_URL",
        ),
    ],
)
def test_bad_settings_are_named_without_their_values(env: dict, expected: str) -> None:
    with pytest.raises(tg.TelegramConfigError) as caught:
        tg.TelegramSettings.load(None, env)
    message = str(caught.value)
    assert expected in message
    for value in env.values():
        if len(value) > 6:
            assert value not in message


@pytest.mark.parametrize(
    "weak",
    [
        "x1",
        "a-random-string-of-letters-digits-and-underscores",
        "abcabcabcabcabcabcabcabcabcabcabcabc",
    ],
)
def test_a_weak_or_example_secret_is_refused_by_name(weak: str) -> None:
    # Telegram itself accepts 1 character; a secret anyone can guess unlocks the webhook.
    with pytest.raises(SecretError) as caught:
        tg.TelegramSettings.load(None, {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET": weak})
    assert "TELEGRAM_SECRET" in str(caught.value)
    assert weak not in str(caught.value)


def test_settings_repr_hides_token_and_secret() -> None:
    settings = tg.TelegramSettings(TOKEN, SECRET, "https://bot.example.org/hook")
    assert TOKEN not in repr(settings)
    assert SECRET not in repr(settings)
    assert "bot.example.org" in repr(settings)


def test_missing_token_leaves_the_channel_inactive_with_one_clear_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("TELEGRAM_TOKEN", "TELEGRAM_SECRET", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TELEGRAM_SECRET", SECRET)
    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram"):
        channel = tg.SecureTelegramInput.from_credentials(None)
    assert isinstance(channel, tg.SecureTelegramInput)
    assert not channel.active
    assert channel.get_output_channel() is None
    assert channel.name() == "telegram"
    assert [r.getMessage() for r in caplog.records] == [
        "telegram channel inactive: no bot token: set TELEGRAM_TOKEN (from @BotFather)"
    ]
    assert SECRET not in caplog.text


def test_malformed_token_in_credentials_does_not_leak_into_the_log(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TELEGRAM_SECRET", SECRET)
    with caplog.at_level(logging.ERROR, logger="bot.channels.telegram"):
        channel = tg.SecureTelegramInput.from_credentials({"token": "secret-looking-value"})
    assert not channel.active
    assert "malformed" in caplog.text
    assert "secret-looking-value" not in caplog.text


def test_valid_settings_make_an_active_channel_without_any_network() -> None:
    channel = tg.SecureTelegramInput(
        tg.TelegramSettings(TOKEN, SECRET, None, "http://127.0.0.1:9"),
        known_intents=frozenset({"greet"}),
    )
    assert channel.active
    assert isinstance(channel.get_output_channel(), tg.TelegramOutput)
    assert channel.get_output_channel().name() == "telegram"


# -- secret and de-duplication --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [(SECRET, True), (SECRET + "x", False), (SECRET[:-1], False), ("", False), (None, False)],
)
def test_secret_check(header: str | None, expected: bool) -> None:
    assert tg.secret_matches(header, SECRET) is expected


def test_an_empty_configured_secret_matches_nothing() -> None:
    assert tg.secret_matches("", "") is False


def test_an_edited_message_is_read_for_words_only_for_the_crisis_check() -> None:
    update = {"update_id": 9, "edited_message": _message_update(text="I want to die")["message"]}
    inbound = tg.parse_update(update, tg.CallbackDataMap())
    assert (inbound.kind, inbound.chat_id, inbound.text) == ("edited", 42, "I want to die")


# -- callback data --------------------------------------------------------------------------


def test_short_payloads_are_sent_as_they_are() -> None:
    callbacks = tg.CallbackDataMap()
    assert callbacks.encode("/affirm") == "/affirm"
    assert callbacks.decode("/affirm") == "/affirm"


@pytest.mark.parametrize(
    "payload",
    [
        '/choose_value{"value": "' + "honesty and kindness " * 4 + '"}',
        "/pick{" + '"v": "' + "é" * 30 + '"}',  # 66 bytes in UTF-8 though 39 characters
        "#looks-like-an-id",
    ],
)
def test_long_or_ambiguous_payloads_get_a_short_id_kept_server_side(payload: str) -> None:
    callbacks = tg.CallbackDataMap()
    data = callbacks.encode(payload)
    assert data != payload
    assert data.startswith("#")
    assert 1 <= len(data.encode("utf-8")) <= 64
    assert callbacks.decode(data) == payload


def test_short_ids_are_the_same_in_every_process() -> None:
    payload = "/x" + "y" * 100
    assert tg.CallbackDataMap().encode(payload) == tg.CallbackDataMap().encode(payload)


def test_an_unknown_short_id_decodes_to_none() -> None:
    assert tg.CallbackDataMap().decode("#unknownid") is None


def test_callback_map_forgets_the_oldest_payloads_past_capacity() -> None:
    callbacks = tg.CallbackDataMap(capacity=2)
    ids = [callbacks.encode("/p" + str(i) * 70) for i in range(3)]
    assert callbacks.decode(ids[0]) is None
    assert callbacks.decode(ids[2]) == "/p" + "2" * 70


# -- update parsing -------------------------------------------------------------------------


def test_typed_text_in_a_private_chat() -> None:
    inbound = tg.parse_update(_message_update(text="hello there"), tg.CallbackDataMap())
    assert inbound.kind == "text"
    assert inbound.text == "hello there"
    assert inbound.chat_id == 42
    assert inbound.update_id == 1
    assert inbound.language_code == "en"


@pytest.mark.parametrize(
    ("text", "payload"),
    [
        ("/start", "/greet"),
        ("  /start  ", "/greet"),
        ("/start@secure_base_bot", "/greet"),
        ("/start campaign_42", "/greet"),
        ("/help", "/ask_help"),
        ("/HELP", "/ask_help"),
        ("/stop", "/stop_exercise"),
        ("/delete", "/delete_my_data"),
    ],
)
def test_commands_become_intent_payloads(text: str, payload: str) -> None:
    inbound = tg.parse_update(_message_update(text=text), tg.CallbackDataMap())
    assert inbound.kind == "command"
    assert inbound.text == payload


@pytest.mark.parametrize(
    "text",
    ["/stop I can't go on", "/greet", "/start now please", "/start bad!link", "/unknown"],
)
def test_commands_with_words_or_unknown_names_stay_typed_text(text: str) -> None:
    inbound = tg.parse_update(_message_update(text=text), tg.CallbackDataMap())
    assert inbound.kind == "text"
    assert inbound.text == text


def test_a_caption_is_read_as_text() -> None:
    update = _message_update(photo=[{"file_id": "p", "width": 1, "height": 1}], caption="my day")
    inbound = tg.parse_update(update, tg.CallbackDataMap())
    assert inbound.kind == "text"
    assert inbound.text == "my day"


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"file_id": "s", "width": 512, "height": 512, "is_animated": False}},
        {"photo": [{"file_id": "p", "width": 1, "height": 1}]},
        {"voice": {"file_id": "v", "duration": 3}},
        {"location": {"latitude": 1.0, "longitude": 2.0}},
        {"photo": [{"file_id": "p", "width": 1, "height": 1}], "caption": "   "},
    ],
)
def test_messages_without_words_are_unreadable(content: dict) -> None:
    inbound = tg.parse_update(_message_update(**content), tg.CallbackDataMap())
    assert inbound.kind == "unreadable"
    assert inbound.chat_id == 42


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 3, "edited_message": _message_update(text="   ")["message"]},
        {
            "update_id": 4,
            "my_chat_member": {
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "Sam"},
                "date": 1,
                "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True}},
                "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True}},
            },
        },
        {
            "update_id": 5,
            "channel_post": {"message_id": 1, "chat": {"id": -100, "type": "channel"}},
        },
        {"update_id": 6, "poll": {"id": "p", "question": "?", "options": []}},
        _message_update(7, chat_type="group", text="hi all"),
        _message_update(8, chat_type="supergroup", text="hi all"),
        _message_update(9, new_chat_title="x"),
        {"update_id": 10, "message": "not an object"},
    ],
)
def test_other_update_kinds_are_ignored(update: dict) -> None:
    inbound = tg.parse_update(update, tg.CallbackDataMap())
    assert inbound.kind == "ignored"
    assert inbound.update_id == update["update_id"]


def test_messages_from_bots_are_ignored() -> None:
    update = _message_update(text="beep")
    update["message"]["from"]["is_bot"] = True
    assert tg.parse_update(update, tg.CallbackDataMap()).kind == "ignored"


@pytest.mark.parametrize(
    "update",
    [None, [], "text", {}, {"update_id": "1", "message": {}}, {"update_id": True}],
)
def test_things_that_are_not_updates_are_ignored_without_an_id(update: object) -> None:
    inbound = tg.parse_update(update, tg.CallbackDataMap())
    assert inbound.kind == "ignored"
    assert inbound.update_id is None


def test_a_button_press() -> None:
    inbound = tg.parse_update(_callback_update("/affirm"), tg.CallbackDataMap())
    assert inbound.kind == "callback"
    assert inbound.text == "/affirm"
    assert inbound.callback_query_id == "cbq-1"
    assert inbound.message_id == 77
    assert inbound.chat_id == 42


def test_a_button_press_with_a_mapped_id() -> None:
    callbacks = tg.CallbackDataMap()
    payload = '/choose_value{"value": "' + "z" * 70 + '"}'
    inbound = tg.parse_update(_callback_update(callbacks.encode(payload)), callbacks)
    assert inbound.text == payload


def test_an_expired_id_falls_back_to_the_button_title() -> None:
    keyboard = [
        [{"text": "Honesty", "callback_data": "#gone"}],
        [{"text": "x", "callback_data": "/x"}],
    ]
    inbound = tg.parse_update(_callback_update("#gone", keyboard=keyboard), tg.CallbackDataMap())
    assert inbound.kind == "callback"
    assert inbound.text is None
    assert inbound.button_title == "Honesty"


def test_a_callback_outside_a_private_chat_is_ignored_but_keeps_its_id() -> None:
    update = _callback_update("/affirm")
    update["callback_query"]["message"]["chat"]["type"] = "group"
    inbound = tg.parse_update(update, tg.CallbackDataMap())
    assert inbound.kind == "ignored"
    assert inbound.callback_query_id == "cbq-1"


def test_a_callback_without_data_is_ignored_but_keeps_its_id() -> None:
    update = _callback_update("/affirm")
    del update["callback_query"]["data"]
    update["callback_query"]["game_short_name"] = "g"
    inbound = tg.parse_update(update, tg.CallbackDataMap())
    assert inbound.kind == "ignored"
    assert inbound.callback_query_id == "cbq-1"


# -- keyboards ------------------------------------------------------------------------------


def test_up_to_three_short_buttons_share_a_row() -> None:
    keyboard = tg.build_inline_keyboard(
        [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        tg.CallbackDataMap(),
    )
    assert keyboard == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]
        ]
    }


def test_long_titles_get_a_row_each_and_are_cut() -> None:
    long_title = "Practise saying no to someone who keeps asking for favours"
    keyboard = tg.build_inline_keyboard(
        [
            {"title": "Wise mind", "payload": "/start_wise_mind"},
            {"title": long_title, "payload": "/start_roleplay"},
        ],
        tg.CallbackDataMap(),
    )
    rows = keyboard["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1]
    cut = rows[1][0]["text"]
    assert len(cut) <= tg.MAX_BUTTON_TITLE
    assert cut.endswith("…")
    assert long_title.startswith(cut[:-1])


def test_every_callback_data_fits_telegrams_limit() -> None:
    callbacks = tg.CallbackDataMap()
    buttons = [
        {"title": f"Value {i}", "payload": '/choose_value{"value": "' + "v" * (10 * i) + '"}'}
        for i in range(1, 8)
    ]
    keyboard = tg.build_inline_keyboard(buttons, callbacks)
    datas = [b["callback_data"] for row in keyboard["inline_keyboard"] for b in row]
    assert len(datas) == 7
    assert all(1 <= len(d.encode("utf-8")) <= 64 for d in datas)
    assert [callbacks.decode(d) for d in datas] == [b["payload"] for b in buttons]


def test_url_buttons_missing_payloads_and_junk() -> None:
    keyboard = tg.build_inline_keyboard(
        [
            {"title": "Find a helpline", "url": "https://findahelpline.com"},
            {"title": "Okay"},
            "not a button",
            {"title": "   ", "payload": ""},
        ],
        tg.CallbackDataMap(),
    )
    assert keyboard["inline_keyboard"] == [
        [{"text": "Find a helpline", "url": "https://findahelpline.com"}],
        [{"text": "Okay", "callback_data": "Okay"}],
    ]


def test_cut_title_flattens_whitespace() -> None:
    assert tg.cut_title("  two\nlines  ") == "two lines"
    assert tg.cut_title(None) == ""
    assert tg.cut_title("abcdef", limit=4) == "abc…"


# -- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "html"),
    [
        ("plain words", "plain words"),
        ("**Describe** the facts", "<b>Describe</b> the facts"),
        ("a *gentle* step", "a <i>gentle</i> step"),
        ("5 < 6 & 7 > 3", "5 &lt; 6 &amp; 7 &gt; 3"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("snake_case_name and *", "snake_case_name and *"),
        (
            "see [the site](https://x.org/a?b=1&c=2)",
            'see <a href="https://x.org/a?b=1&amp;c=2">the site</a>',
        ),
        # Markers that do not pair up cleanly stay as they are rather than risk crossed tags.
        ("**a *b** c*", "**a *b** c*"),
        ("<b>not ours</b>", "&lt;b&gt;not ours&lt;/b&gt;"),
    ],
)
def test_render_html(source: str, html: str) -> None:
    assert tg.render_html(source) == html


def test_strip_markdown_leaves_no_markers() -> None:
    text = "**DEAR MAN**: *Describe*, see [this](https://x.org)"
    assert tg.strip_markdown(text) == "DEAR MAN: Describe, see this (https://x.org)"


def test_split_text_keeps_short_text_whole() -> None:
    assert tg.split_text("  hello  ") == ["hello"]
    assert tg.split_text("   ") == []


def test_split_text_breaks_at_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 60 for i in range(30)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = tg.split_text(text, limit=1000)
    assert len(parts) > 1
    assert all(len(p) <= 1000 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert all(p.startswith("Paragraph") for p in parts)


def test_split_text_cuts_a_word_longer_than_a_message() -> None:
    parts = tg.split_text("x" * 25, limit=10)
    assert parts == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("journal.json", "journal.json"),
        ("../../etc/passwd", "passwd"),
        ("my journal (2026).json", "my journal _2026_.json"),
        ("", "journal.json"),
        (None, "journal.json"),
        ("...", "journal.json"),
        ("a" * 100 + ".json", "a" * 59 + ".json"),
        ("b" * 100, "b" * 64),
    ],
)
def test_safe_filename(name: object, expected: str) -> None:
    assert tg.safe_filename(name) == expected
