"""The crisis answer never waits for the database, and limits come before any work.

The fail-safe runs here with a stand-in dialogue; the crisis detector, the resource texts, the
counter and its SQLAlchemy engine are the real ones. "PostgreSQL unreachable" is a port that
accepts connections and never answers (a firewalled or hung server): the case in which a
client without a connect timeout waits for minutes. A refused port would fail at once and
prove nothing.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot import database
from bot.channels import failsafe
from bot.journal import db
from bot.safety import counter
from tests.e2e.crisis_check import shows_crisis_resources

# The "program, not a person" notice is not what these tests are about (test_ai_notice.py).
pytestmark = pytest.mark.usefixtures("notice_seen")

KNOWN = frozenset({"greet", "crisis"})
CRISIS_TEXT = "I want to die"


@pytest.fixture
def silent_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """DATABASE_URL pointing at a listener that never speaks PostgreSQL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/nowhere"
    monkeypatch.setenv(counter.DATABASE_URL_ENV, url)
    yield url
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    listener.close()
    db.dispose_engines(url)


async def _hello(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": "Hello."})


async def test_a_crisis_is_answered_fast_while_the_database_hangs(silent_postgres: str) -> None:
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    # Loading the patterns and resource texts happens once per process; not what is measured.
    failsafe.safety.detect(CRISIS_TEXT)
    failsafe.resources.crisis_messages(None)
    beat = asyncio.ensure_future(ticker())
    collector = CollectingOutputChannel()
    start = time.monotonic()
    await failsafe.handle_message(
        _hello,
        UserMessage(CRISIS_TEXT, collector, "s1", input_channel="test"),
        channel="test",
        known_intents=KNOWN,
    )
    took = time.monotonic() - start
    assert shows_crisis_resources([m.get("text") for m in collector.messages])
    assert took < 2.0, took  # the database alone would hold it 5 s (connect timeout)
    # The count waits for the database in its worker thread while the loop keeps running.
    await asyncio.sleep(1.0)
    beat.cancel()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) < 0.5, max(gaps)
    # ... and gives up after the connect timeout instead of waiting for minutes.
    await asyncio.wait_for(failsafe.wait_for_counts(), database.PG_CONNECT_TIMEOUT_S + 10)


def test_the_counter_gives_up_on_a_silent_database_within_its_connect_timeout(
    silent_postgres: str, caplog: pytest.LogCaptureFixture
) -> None:
    start = time.monotonic()
    counter.record("US", "test")
    assert time.monotonic() - start < database.PG_CONNECT_TIMEOUT_S + 5
    assert "could not count a crisis event" in caplog.text


async def test_counting_happens_after_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'counts.db'}"
    db.upgrade(url)
    monkeypatch.setenv(counter.DATABASE_URL_ENV, url)
    seen_at_send: list[int] = []

    class Watching(CollectingOutputChannel):
        async def send_response(self, recipient_id: str, message: dict) -> None:
            seen_at_send.append(sum(row[3] for row in counter.read(url)))
            await super().send_response(recipient_id, message)

    await failsafe.handle_message(
        _hello,
        UserMessage(CRISIS_TEXT, Watching(), "s2", input_channel="test"),
        channel="test",
        known_intents=KNOWN,
    )
    await failsafe.wait_for_counts()
    assert seen_at_send and seen_at_send[0] == 0
    assert sum(row[3] for row in counter.read(url)) == 1
    db.dispose_engines(url)


async def test_a_huge_message_is_read_for_a_crisis_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    huge = "I feel so tired of all of this today " * 30_000  # about 1 MB
    collector = CollectingOutputChannel()
    read: list[int] = []
    detect = failsafe.safety.detect

    def measured(text: str):  # type: ignore[no-untyped-def]
        read.append(len(text))
        return detect(text)

    monkeypatch.setattr(failsafe.safety, "detect", measured)
    await failsafe.handle_message(
        _hello,
        UserMessage(huge + CRISIS_TEXT, collector, "s3", input_channel="test"),
        channel="test",
        known_intents=KNOWN,
    )
    # 1 MB took 4.4 s in the normaliser alone when detection read all of it. The bound is on
    # what the detector is given (its time grows with the text), not on the clock of a shared
    # machine: the two ends of the message, never all of it.
    assert read and max(read) <= 2 * failsafe.MAX_MESSAGE_CHARS + 1
    assert shows_crisis_resources([m.get("text") for m in collector.messages])
    await failsafe.wait_for_counts()


@pytest.mark.parametrize(
    "metadata",
    [
        {"deep": [[[[[[[[[["too deep"]]]]]]]]]]},
        {"big": "x" * (failsafe.MAX_METADATA_BYTES + 1)},
        {f"k{i}": i for i in range(2000)},
    ],
)
async def test_oversized_or_deep_metadata_is_dropped_and_the_message_kept(
    metadata: dict,
) -> None:
    received: list[UserMessage] = []

    async def dialogue(message: UserMessage) -> None:
        received.append(message)
        await _hello(message)

    collector = CollectingOutputChannel()
    await failsafe.handle_message(
        dialogue,
        UserMessage("hello there", collector, "s4", input_channel="test", metadata=metadata),
        channel="test",
        known_intents=KNOWN,
    )
    assert [m.text for m in received] == ["hello there"]
    assert received[0].metadata is None
    assert [m.get("text") for m in collector.messages] == ["Hello."]


async def test_small_metadata_passes_unchanged() -> None:
    received: list[UserMessage] = []

    async def dialogue(message: UserMessage) -> None:
        received.append(message)
        await _hello(message)

    metadata = {"telegram": {"update_id": 1, "kind": "text"}}
    await failsafe.handle_message(
        dialogue,
        UserMessage("hi", CollectingOutputChannel(), "s5", metadata=metadata),
        channel="test",
        known_intents=KNOWN,
    )
    assert received[0].metadata == metadata
