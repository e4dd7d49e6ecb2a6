"""How each channel's output carries a progress picture (a data URL) and its description, as
Rasa hands the action's message to it (``BotUttered.message()`` through the fail-safe's
wrapper). The Telegram upload is tested against the fake Bot API in tests/telegram/."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from rasa.core.actions.action import create_bot_utterance

from bot.channels.failsafe import RecordingOutputChannel
from bot.channels.rest import RestOutput, RestQueueOutput
from bot.channels.socketio import PictureSocketIOOutput
from bot.progress import history, pictures


def _picture() -> pictures.Picture:
    day = datetime(2026, 11, 2, tzinfo=timezone.utc)
    pauses = history.pauses([(day, 8, 4), (day.replace(day=3), 6, 5)])
    return pictures.wise_mind_picture(pauses, pictures.texts())


def _as_rasa_sends_it(picture: pictures.Picture) -> dict[str, Any]:
    """The action's message (text, image, alt) the way Rasa turns it into what channels get."""
    return create_bot_utterance(
        {"text": picture.summary, "image": picture.data_url, "alt": picture.alt}
    ).message()


def test_rest_answers_carry_the_summary_then_the_image_with_its_alt() -> None:
    picture = _picture()
    output = RestOutput()
    asyncio.run(
        RecordingOutputChannel(output).send_response("rest:ana", _as_rasa_sends_it(picture))
    )
    assert output.messages == [
        {"recipient_id": "rest:ana", "text": picture.summary},
        {"recipient_id": "rest:ana", "image": picture.data_url, "alt": picture.alt},
    ]


def test_the_streamed_rest_answer_carries_the_alt_too() -> None:
    picture = _picture()

    async def run() -> list[dict[str, Any]]:
        queue: asyncio.Queue = asyncio.Queue()
        await RestQueueOutput(queue).send_response("rest:ana", _as_rasa_sends_it(picture))
        return [queue.get_nowait() for _ in range(queue.qsize())]

    assert asyncio.run(run())[1]["alt"] == picture.alt


class _Sio:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any, room: str, **kwargs: Any) -> None:
        self.emitted.append((event, data, room))


def test_the_web_page_gets_an_image_attachment_with_the_alt_as_title_and_alt() -> None:
    picture = _picture()
    sio = _Sio()
    output = PictureSocketIOOutput(sio, "bot_uttered")
    asyncio.run(RecordingOutputChannel(output).send_response("web:abc", _as_rasa_sends_it(picture)))
    assert sio.emitted == [
        ("bot_uttered", {"text": picture.summary}, "web:abc"),
        (
            "bot_uttered",
            {
                "attachment": {
                    "type": "image",
                    "payload": {"src": picture.data_url, "title": picture.alt, "alt": picture.alt},
                }
            },
            "web:abc",
        ),
    ]
