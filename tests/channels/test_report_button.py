"""The "Report this reply" button under the "safe" answer to "Are you safe right now?" (issue
19): added by the channels as the answer goes out, the answer's text and the domain untouched.
The not-safe answer carries nothing but its lines."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import CollectingOutputChannel

from bot.channels.failsafe import RecordingOutputChannel
from bot.safety import resources

REPORT_BUTTON = {"title": "Report this reply", "payload": "/report_reply"}


def _answers(kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    data = resources.catalogue()
    return [(kind, getattr(texts, kind)) for texts in data.all_texts() for kind in kinds]


@pytest.mark.parametrize(("kind", "text"), _answers(resources.REPORTABLE_KINDS))
def test_every_safe_answer_gets_the_button(kind: str, text: str) -> None:
    message = {"text": text, "buttons": None, "utter_action": f"utter_crisis_{kind}"}
    shown = resources.with_answer_buttons(message)
    assert shown["text"] == text and shown["buttons"] == [REPORT_BUTTON]
    assert message["buttons"] is None  # the dialogue's own message is not changed


def test_other_messages_are_left_as_they_are() -> None:
    data = resources.catalogue()
    for texts in data.all_texts():
        for kind in (
            "resources",
            "abuse",
            "not_safe",
            "ask_again",
            "unsure",
            "check_in",
            "check_in_no",
        ):
            message = {"text": getattr(texts, kind)}
            assert resources.with_answer_buttons(message) is message
    menu = {"text": "What would you like to try?", "buttons": [{"title": "x", "payload": "/y"}]}
    assert resources.with_answer_buttons(menu) is menu
    assert resources.with_answer_buttons({"custom": {"a": 1}}) == {"custom": {"a": 1}}


def test_an_answer_that_has_buttons_keeps_them() -> None:
    own = [{"title": "Back to the menu", "payload": "/ask_help"}]
    message = {"text": resources.catalogue().generic.safe, "buttons": own}
    assert resources.with_answer_buttons(message)["buttons"] == own


def test_the_answer_goes_out_whole_even_if_the_buttons_cannot_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = resources.catalogue().generic.safe

    def broken() -> resources.ResourceCatalogue:
        raise OSError("resources.yml unreadable")

    monkeypatch.setattr(resources, "catalogue", broken)
    assert resources.with_answer_buttons({"text": text}) == {"text": text}


def test_the_channel_sends_the_safe_answer_with_the_button_and_its_text_unchanged() -> None:
    collected = CollectingOutputChannel()
    recorder = RecordingOutputChannel(collected)
    text = resources.catalogue().regions["UK"].safe
    asyncio.run(recorder.send_response("rest:someone", {"text": text, "buttons": None}))
    asyncio.run(recorder.send_response("rest:someone", {"text": "Hello"}))
    first, second = collected.messages
    assert first["text"] == text and first["buttons"] == [REPORT_BUTTON]
    assert second["text"] == "Hello" and "buttons" not in second
    assert "Report this reply" in recorder.texts
