"""The fail-safe under every channel: crisis resources whatever fails, and never silence.

The dialogue is replaced by small coroutines (raising, silent, answering, answering with the
resources); the crisis detector and the resource texts are the real ``bot.safety`` ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage

from bot.channels import failsafe
from bot.channels.open_questions import OpenQuestions
from bot.journal import db
from bot.journal.tracker_store import TrackerStoreUnavailable
from bot.safety import counter, resources
from bot.safety.detector import CrisisResult
from bot.safety.open_question import CHECK_IN as OPEN_CHECK_IN
from bot.safety.open_question import OPEN_QUESTION_KEY, SAFETY
from tests.builders import check_in_verdict
from tests.e2e.crisis_check import shows_crisis_resources

# The "program, not a person" notice is not what these tests are about (test_ai_notice.py).
pytestmark = pytest.mark.usefixtures("notice_seen")

KNOWN = frozenset({"greet", "crisis", "start_values_exercise", "affirm"})
CRISIS_TEXT = "I want to die"
SENDER = "sender-7f3a"


@pytest.fixture(autouse=True)
def fresh_notes(monkeypatch: pytest.MonkeyPatch) -> OpenQuestions:
    """Each test starts with no open question noted (the store is per process)."""
    notes = OpenQuestions()
    monkeypatch.setattr(failsafe, "_open_questions_store", notes)
    return notes


@pytest.fixture(autouse=True)
def counts_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Crisis counts go to a temporary database, never the repository's var/."""
    url = f"sqlite:///{tmp_path / 'counts.db'}"
    monkeypatch.setenv(counter.DATABASE_URL_ENV, url)
    db.upgrade(url)
    yield url
    db.dispose_engines(url)


class Dialogue:
    """A stand-in for Rasa's agent: records what it was given and answers as told."""

    def __init__(self, answer: Callable[[UserMessage], Awaitable[None]] | None = None) -> None:
        self.received: list[str] = []
        self._answer = answer

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message.text)
        if self._answer is not None:
            await self._answer(message)


async def _raise(message: UserMessage) -> None:
    raise RuntimeError(f"model exploded while reading {message.text!r} from {message.sender_id}")


async def _say_hello(message: UserMessage) -> None:
    await message.output_channel.send_response(
        message.sender_id, {"text": "Hello, good to see you."}
    )


async def _send_all(message: UserMessage, items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        await message.output_channel.send_response(message.sender_id, copy.deepcopy(item))


async def _send_resources(message: UserMessage) -> None:
    await _send_all(message, resources.crisis_messages(None, ("suicide",)))


def _texts(collector: CollectingOutputChannel) -> list[str]:
    return [m.get("text", "") for m in collector.messages]


async def _as_sent(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``items`` as the user receives them."""
    collector = CollectingOutputChannel()
    for item in items:
        await collector.send_response(SENDER, copy.deepcopy(item))
    return collector.messages


async def _expected_resources(categories: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return await _as_sent(resources.crisis_messages(None, categories))


async def _handle(
    dialogue: Dialogue, text: str, collector: OutputChannel, metadata: Any = None
) -> None:
    """The fail-safe handles ``text`` from SENDER on the channel "test"."""
    message = UserMessage(text, collector, SENDER, input_channel="test", metadata=metadata)
    await failsafe.handle_message(dialogue, message, channel="test", known_intents=KNOWN)


async def _run(text: str, dialogue: Dialogue) -> CollectingOutputChannel:
    collector = CollectingOutputChannel()
    await _handle(dialogue, text, collector)
    return collector


async def _until(done: Callable[[], bool], tries: int) -> None:
    """Wait until ``done()``, looking every 10 ms, ``tries`` times at most."""
    for _ in range(tries):
        if done():
            return
        await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def _dialogue_held_back(
    text: str, answer: Callable[[UserMessage], Awaitable[None]], tries: int
) -> AsyncIterator[CollectingOutputChannel]:
    """The fail-safe handles ``text`` while the dialogue waits to ``answer``: inside, the channel
    once something reached the user (the turn still running); on leaving, the dialogue answers
    and the turn ends."""
    release = asyncio.Event()

    async def held(message: UserMessage) -> None:
        await release.wait()
        await answer(message)

    collector = CollectingOutputChannel()
    turn = asyncio.ensure_future(_handle(Dialogue(held), text, collector))
    await _until(lambda: bool(collector.messages), tries)
    yield collector
    assert not turn.done()
    release.set()
    await turn


async def _counts(url: str) -> dict[tuple[str, str], int]:
    """The crisis counts by region and channel (counted in a worker thread after the resources
    went out: waited for)."""
    await failsafe.wait_for_counts()
    return {(region, channel): n for _, region, channel, n in counter.read_counts(url)}


def _has_resources(collector: CollectingOutputChannel) -> bool:
    return shows_crisis_resources(_texts(collector))


async def test_crisis_gets_resources_when_the_dialogue_raises() -> None:
    dialogue = Dialogue(_raise)
    collector = await _run(CRISIS_TEXT, dialogue)
    assert dialogue.received == [CRISIS_TEXT]
    detected = failsafe.safety.detect(CRISIS_TEXT)
    assert collector.messages == await _expected_resources(tuple(detected.categories))


async def test_a_crisis_is_counted_by_region_and_channel(
    counts_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(failsafe.REGION_ENV, raising=False)
    await _run(CRISIS_TEXT, Dialogue(_say_hello))
    await _run("hello", Dialogue(_say_hello))
    collector = CollectingOutputChannel()
    message = UserMessage(CRISIS_TEXT, collector, SENDER)
    await failsafe.handle_message(
        Dialogue(_say_hello), message, channel="socketio", known_intents=KNOWN, region="UK"
    )
    assert await _counts(counts_url) == {("US", "test"): 1, ("UK", "socketio"): 1}


async def test_crisis_resources_go_out_before_the_dialogue_answers() -> None:
    collector = await _run(CRISIS_TEXT, Dialogue(_say_hello))
    detected = failsafe.safety.detect(CRISIS_TEXT)
    expected = await _expected_resources(tuple(detected.categories))
    assert collector.messages[: len(expected)] == expected
    assert _texts(collector)[len(expected) :] == ["Hello, good to see you."]


async def test_resources_reach_the_user_before_a_hung_dialogue_returns() -> None:
    async with _dialogue_held_back(CRISIS_TEXT, _send_resources, 100) as collector:
        assert _has_resources(collector)
    # The dialogue's own copy (it ran, and Rasa kept its events) did not reach the user twice.
    detected = failsafe.safety.detect(CRISIS_TEXT)
    assert collector.messages == await _expected_resources(tuple(detected.categories))


async def test_the_lines_of_a_region_chosen_in_the_conversation_still_go_out() -> None:
    async def send_uk(message: UserMessage) -> None:
        await _send_all(message, resources.crisis_messages("UK"))

    collector = await _run(CRISIS_TEXT, Dialogue(send_uk))
    detected = failsafe.safety.detect(CRISIS_TEXT)
    expected = await _expected_resources(tuple(detected.categories))
    assert collector.messages[: len(expected)] == expected
    uk = resources.crisis_messages("UK")[0]["text"]
    assert " ".join(uk.split()) in {" ".join(t.split()) for t in _texts(collector)}


async def test_the_generic_resources_of_the_dialogue_are_not_repeated() -> None:
    generic = resources.catalogue().generic.resources

    async def send_generic(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": generic})

    collector = await _run(CRISIS_TEXT, Dialogue(send_generic))
    detected = failsafe.safety.detect(CRISIS_TEXT)
    assert collector.messages == await _expected_resources(tuple(detected.categories))


async def test_a_cancelled_handler_still_delivers_the_resources() -> None:
    gate = asyncio.Event()

    class SlowChannel(CollectingOutputChannel):
        async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
            await gate.wait()
            await super().send_response(recipient_id, message)

    collector = SlowChannel()
    turn = asyncio.ensure_future(_handle(Dialogue(_say_hello), CRISIS_TEXT, collector))
    await asyncio.sleep(0.05)
    turn.cancel()  # the client hung up while the resources were on their way
    with pytest.raises(asyncio.CancelledError):
        await turn
    gate.set()
    await _until(lambda: _has_resources(collector), 100)
    assert _has_resources(collector)
    assert "Hello, good to see you." not in _texts(collector)


async def test_crisis_resources_already_sent_are_not_repeated() -> None:
    collector = await _run(CRISIS_TEXT, Dialogue(_send_resources))
    assert collector.messages == await _expected_resources(("suicide",))


ABUSE_TEXT = "my husband hits me and I'm scared to go home"


async def _send_first_resources_only(message: UserMessage) -> None:
    # What the dialogue does: one static response for every crisis, without the abuse lines.
    first = resources.crisis_messages(None)[0]
    await message.output_channel.send_response(message.sender_id, copy.deepcopy(first))


async def test_abuse_lines_are_added_to_the_dialogues_resources() -> None:
    detected = failsafe.safety.detect(ABUSE_TEXT)
    assert resources.ABUSE_CATEGORY in detected.categories
    collector = await _run(ABUSE_TEXT, Dialogue(_send_first_resources_only))
    expected = await _expected_resources(tuple(detected.categories))
    assert "1-800-799-7233" in " ".join(_texts(collector))
    assert collector.messages == expected


async def test_abuse_lines_already_sent_are_not_repeated() -> None:
    async def send_everything(message: UserMessage) -> None:
        await _send_all(message, resources.crisis_messages(None, (resources.ABUSE_CATEGORY,)))

    collector = await _run(ABUSE_TEXT, Dialogue(send_everything))
    assert collector.messages == await _expected_resources((resources.ABUSE_CATEGORY,))


async def test_silent_dialogue_gets_an_apology() -> None:
    collector = await _run("tell me about boundaries", Dialogue())
    assert _texts(collector) == [failsafe.APOLOGY_TEXT]


async def test_raising_dialogue_gets_an_apology() -> None:
    collector = await _run("tell me about boundaries", Dialogue(_raise))
    assert _texts(collector) == [failsafe.APOLOGY_TEXT]


async def _answer_then_lose_the_store(message: UserMessage) -> None:
    # Rasa's order: the answer is produced, then saving the turn fails.
    await _say_hello(message)
    raise TrackerStoreUnavailable("save")


async def test_store_outage_asks_to_send_it_again_instead_of_an_unsaved_answer() -> None:
    collector = await _run("tell me about boundaries", Dialogue(_answer_then_lose_the_store))
    assert _texts(collector) == [failsafe.UNAVAILABLE_TEXT]


async def test_store_outage_still_gives_a_crisis_all_the_resources() -> None:
    collector = await _run(CRISIS_TEXT, Dialogue(_answer_then_lose_the_store))
    detected = failsafe.safety.detect(CRISIS_TEXT)
    assert collector.messages == await _expected_resources(tuple(detected.categories))


async def test_store_outage_on_a_streaming_channel_says_the_answer_was_not_kept() -> None:
    delivered: list[str] = []

    class Streaming(OutputChannel):
        """Delivers at once, as socket.io and Telegram do: what went out stays out."""

        async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
            delivered.append(text)

    message = UserMessage("hi there", Streaming(), SENDER, input_channel="test")
    await failsafe.handle_message(
        Dialogue(_answer_then_lose_the_store), message, channel="test", known_intents=KNOWN
    )
    assert delivered == ["Hello, good to see you.", failsafe.UNAVAILABLE_TEXT]


async def test_a_normal_answer_goes_through_untouched() -> None:
    dialogue = Dialogue(_say_hello)
    collector = await _run("hi there", dialogue)
    assert dialogue.received == ["hi there"]
    assert _texts(collector) == ["Hello, good to see you."]
    assert not _has_resources(collector)


async def test_slash_command_cannot_hide_a_crisis() -> None:
    dialogue = Dialogue(_say_hello)
    collector = await _run("/greet I want to die", dialogue)
    assert dialogue.received == ["greet I want to die"]
    assert _has_resources(collector)


async def test_a_button_payload_passes_unchanged() -> None:
    dialogue = Dialogue(_say_hello)
    await _run("/greet", dialogue)
    await _run('/start_values_exercise{"domain": "work"}', dialogue)
    assert dialogue.received == ["/greet", '/start_values_exercise{"domain": "work"}']


async def test_an_unknown_intent_payload_is_read_as_words() -> None:
    dialogue = Dialogue(_say_hello)
    await _run("/unknown_intent", dialogue)
    assert dialogue.received == ["unknown_intent"]


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("/greet", "/greet"),
        ('/greet{"a": 1}', '/greet{"a": 1}'),
        ("/greet{not json}", "greet{not json}"),
        ('/greet["a"]', 'greet["a"]'),
        ('/greet{"a": 1} and more', 'greet{"a": 1} and more'),
        ("/greet I want to die", "greet I want to die"),
        ("//greet", "greet"),
        ("/ /greet", "greet"),
        ("/unknown_intent", "unknown_intent"),
        ("/greet@0.9", "greet@0.9"),
        ("hello /greet", "hello /greet"),
        ("plain words", "plain words"),
    ],
)
def test_guard_text(typed: str, seen: str) -> None:
    assert failsafe.guard_text(typed, KNOWN) == seen


async def test_too_long_message_is_not_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failsafe, "MAX_MESSAGE_CHARS", 50)
    dialogue = Dialogue(_say_hello)
    collector = await _run("word " * 20, dialogue)
    assert dialogue.received == []
    assert _texts(collector) == [failsafe.TOO_LONG_TEXT]


async def test_too_long_crisis_message_gets_the_resources_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(failsafe, "MAX_MESSAGE_CHARS", 50)
    dialogue = Dialogue(_say_hello)
    text = "word " * 20 + CRISIS_TEXT
    collector = await _run(text, dialogue)
    assert dialogue.received == []
    detected = failsafe.safety.detect(text)
    assert collector.messages == await _expected_resources(tuple(detected.categories))


def test_max_message_chars_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(failsafe.MAX_CHARS_ENV, raising=False)
    assert failsafe._max_chars_from_env() == 4000
    monkeypatch.setenv(failsafe.MAX_CHARS_ENV, "250")
    assert failsafe._max_chars_from_env() == 250
    monkeypatch.setenv(failsafe.MAX_CHARS_ENV, "lots")
    with pytest.raises(ValueError, match=failsafe.MAX_CHARS_ENV):
        failsafe._max_chars_from_env()


def test_max_in_flight_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(failsafe.MAX_IN_FLIGHT_ENV, "0")
    with pytest.raises(ValueError, match=failsafe.MAX_IN_FLIGHT_ENV):
        failsafe._positive_int_from_env(failsafe.MAX_IN_FLIGHT_ENV, 4)
    monkeypatch.delenv(failsafe.MAX_IN_FLIGHT_ENV)
    assert failsafe._positive_int_from_env(failsafe.MAX_IN_FLIGHT_ENV, 4) == 4


class _Held:
    """A dialogue that answers only when released, counting how many run at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.running = 0
        self.most = 0
        self.entered = 0

    async def __call__(self, message: UserMessage) -> None:
        self.entered += 1
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await self.release.wait()
            await _say_hello(message)
        finally:
            self.running -= 1


async def test_only_max_in_flight_messages_enter_the_dialogue_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(failsafe, "MAX_IN_FLIGHT", 2)
    held = _Held()
    runs = [asyncio.create_task(_run(f"message {i}", Dialogue(held))) for i in range(6)]
    # Detection runs in a worker thread first: wait for two to enter, then give the rest time.
    await _until(lambda: held.entered >= 2, 500)
    await asyncio.sleep(0.3)
    assert held.entered == 2, "the others wait at the gate"
    held.release.set()
    collectors = await asyncio.gather(*runs)
    assert held.most == 2 and held.entered == 6
    assert all(_texts(c) == ["Hello, good to see you."] for c in collectors)


@contextlib.asynccontextmanager
async def _a_full_gate(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[asyncio.Task]]:
    """A gate of one with one ordinary message inside and two waiting (the tasks); let through
    on leaving."""
    monkeypatch.setattr(failsafe, "MAX_IN_FLIGHT", 1)
    held = _Held()
    waiting = [asyncio.create_task(_run(f"message {i}", Dialogue(held))) for i in range(3)]
    for _ in range(20):
        await asyncio.sleep(0)
    yield waiting
    held.release.set()
    await asyncio.gather(*waiting)


async def test_a_crisis_message_does_not_wait_behind_a_full_gate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with _a_full_gate(monkeypatch) as waiting:
        crisis = await asyncio.wait_for(_run(CRISIS_TEXT, Dialogue(_send_resources)), timeout=10)
        assert _has_resources(crisis)
        assert not any(task.done() for task in waiting), "answered while the gate was still full"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
async def test_empty_message_gets_a_gentle_prompt(text: str) -> None:
    dialogue = Dialogue(_say_hello)
    collector = await _run(text, dialogue)
    assert dialogue.received == []
    assert _texts(collector) == [failsafe.EMPTY_TEXT]


async def test_a_lone_slash_is_treated_as_empty() -> None:
    dialogue = Dialogue(_say_hello)
    collector = await _run("/", dialogue)
    assert dialogue.received == []
    assert _texts(collector) == [failsafe.EMPTY_TEXT]


async def test_no_user_text_or_sender_in_logs_at_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_words = "my sister Ada and I want to die tonight"
    await _run(secret_words, Dialogue(_raise))
    await _run("Ada keeps calling me", Dialogue())
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert loud, "the crisis and the failure should be logged"
    for record in loud:
        rendered = record.getMessage() + (record.exc_text or "")
        assert "Ada" not in rendered and SENDER not in rendered
        assert record.exc_info is None


async def test_the_recording_proxy_keeps_the_channel_name() -> None:
    class NamedChannel(CollectingOutputChannel):
        @classmethod
        def name(cls) -> str:
            return "socketio"

    seen: list[str] = []

    async def answer(message: UserMessage) -> None:
        seen.append(message.output_channel.name())
        await _say_hello(message)

    inner = NamedChannel()
    message = UserMessage("hi", inner, SENDER)
    await failsafe.handle_message(
        Dialogue(answer), message, channel="socketio", known_intents=KNOWN
    )
    assert seen == ["socketio"]
    assert [m["text"] for m in inner.messages] == ["Hello, good to see you."]


async def test_buttons_reach_the_real_channel_intact() -> None:
    buttons = [{"title": "Find my values", "payload": "/start_values_exercise"}]

    async def answer(message: UserMessage) -> None:
        await message.output_channel.send_response(
            message.sender_id, {"text": "What now?", "buttons": buttons}
        )

    collector = await _run("hi", Dialogue(answer))
    assert collector.messages == [{"recipient_id": SENDER, "text": "What now?", "buttons": buttons}]


def test_known_intents_from_domain_files(tmp_path: Path) -> None:
    (tmp_path / "skill").mkdir()
    (tmp_path / "_shared.yml").write_text('version: "3.1"\nintents:\n  - greet\n  - crisis\n')
    (tmp_path / "skill" / "values.yml").write_text(
        "intents:\n  - start_values_exercise:\n      use_entities: []\nresponses: {}\n"
    )
    (tmp_path / "empty.yml").write_text("")
    assert failsafe.known_intents_from_domain(tmp_path) == {
        "greet",
        "crisis",
        "start_values_exercise",
    }


def test_known_intents_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yml"
    bad.write_text("intents: [greet\n")
    with pytest.raises(ValueError, match="broken.yml"):
        failsafe.known_intents_from_domain(tmp_path)
    bad.write_text("intents: greet\n")
    with pytest.raises(ValueError, match="broken.yml"):
        failsafe.known_intents_from_domain(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        failsafe.known_intents_from_domain(tmp_path / "nowhere")


def test_known_intents_of_the_project_domain() -> None:
    intents = failsafe.known_intents_from_domain()
    assert {"greet", "crisis"} <= intents


def test_known_intents_are_read_once_per_domain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every channel asks on every message; the files are read once (at start-up).
    (tmp_path / "a.yml").write_text("intents:\n  - greet\n")
    monkeypatch.setenv(failsafe.DOMAIN_ENV, str(tmp_path))
    first = failsafe.known_intents_from_domain()
    (tmp_path / "a.yml").write_text("intents:\n  - greet\n  - added_later\n")
    assert failsafe.known_intents_from_domain() is first
    assert failsafe.known_intents_from_domain(tmp_path) is first
    assert first == {"greet"}


# -- the middle band: the dialogue asks the check-in, the fail-safe is the floor under it -------

MIDDLE_TEXT = "honestly they'd all be better off without me"
CHECK_IN = check_in_verdict("burden", "burden_better_off")


@pytest.fixture
def middle_band(monkeypatch: pytest.MonkeyPatch) -> None:
    """The detector answers MIDDLE_TEXT with the check-in tier (the real one does not yet)."""
    real = failsafe.safety.detect

    def detect(text: str) -> CrisisResult:
        return CHECK_IN if MIDDLE_TEXT in text else real(text)

    monkeypatch.setattr(failsafe.safety, "detect", detect)


async def _expected_check_in(region: str | None = None) -> list[dict[str, Any]]:
    return await _as_sent(resources.check_in_messages(region))


async def _ask_check_in(message: UserMessage) -> None:
    # What the dialogue does while no region is chosen: the generic check-in.
    generic = resources.catalogue().generic.check_in
    buttons = [dict(b) for b in resources.catalogue().check_in_buttons]
    await message.output_channel.send_response(
        message.sender_id, {"text": generic, "buttons": buttons}
    )


def _check_ins(collector: CollectingOutputChannel) -> list[str]:
    return [t for t in _texts(collector) if resources.is_check_in_text(t)]


async def test_a_middle_band_message_gets_the_dialogues_check_in_not_the_resources(
    middle_band: None,
) -> None:
    dialogue = Dialogue(_ask_check_in)
    collector = await _run(MIDDLE_TEXT, dialogue)
    assert dialogue.received == [MIDDLE_TEXT]
    assert not _has_resources(collector)
    assert _check_ins(collector) == [resources.catalogue().generic.check_in]
    assert [b["payload"] for b in collector.messages[0]["buttons"]] == [
        "/check_in_yes",
        "/check_in_no",
    ]


@pytest.mark.parametrize("answer", [_raise, None, _say_hello])
async def test_no_check_in_from_the_dialogue_gets_the_static_one(
    middle_band: None, answer: Callable[[UserMessage], Awaitable[None]] | None
) -> None:
    # The dialogue raised, said nothing, or said something without the question.
    collector = await _run(MIDDLE_TEXT, Dialogue(answer))
    expected = await _expected_check_in()
    assert collector.messages[-len(expected) :] == expected
    assert len(_check_ins(collector)) == 1
    assert not _has_resources(collector)
    assert failsafe.APOLOGY_TEXT not in _texts(collector)


async def test_the_dialogues_resources_are_enough(middle_band: None) -> None:
    # A second middle-band message: the dialogue gives the full resources, no check-in follows.
    collector = await _run(MIDDLE_TEXT, Dialogue(_send_resources))
    assert _has_resources(collector)
    assert _check_ins(collector) == []


async def test_a_late_dialogue_gets_the_static_check_in_once(
    middle_band: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failsafe, "CHECK_IN_DEADLINE_SECONDS", 0.05)
    async with _dialogue_held_back(MIDDLE_TEXT, _ask_check_in, 200) as collector:
        assert collector.messages == await _expected_check_in()
    # The dialogue's own (generic) copy of the question was held back.
    assert collector.messages == await _expected_check_in()


async def _run_late(
    answer: Callable[[UserMessage], Awaitable[None]], monkeypatch: pytest.MonkeyPatch
) -> CollectingOutputChannel:
    """MIDDLE_TEXT to a dialogue that answers after the check-in's deadline."""
    monkeypatch.setattr(failsafe, "CHECK_IN_DEADLINE_SECONDS", 0.01)

    async def late(message: UserMessage) -> None:
        await asyncio.sleep(0.1)
        await answer(message)

    return await _run(MIDDLE_TEXT, Dialogue(late))


async def test_a_late_dialogue_in_another_region_still_gives_its_line(
    middle_band: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def uk_check_in(message: UserMessage) -> None:
        await _send_all(message, resources.check_in_messages("UK"))

    collector = await _run_late(uk_check_in, monkeypatch)
    assert collector.messages[:1] == await _expected_check_in()
    assert resources.check_in_messages("UK")[0]["text"] in _texts(collector)


async def test_a_store_outage_still_asks_the_check_in(middle_band: None) -> None:
    async def ask_then_lose_the_store(message: UserMessage) -> None:
        await _ask_check_in(message)
        raise TrackerStoreUnavailable("save")

    collector = await _run(MIDDLE_TEXT, Dialogue(ask_then_lose_the_store))
    assert collector.messages == await _expected_check_in()


async def test_a_middle_band_message_does_not_wait_behind_a_full_gate(
    middle_band: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _a_full_gate(monkeypatch) as waiting:
        answered = await asyncio.wait_for(_run(MIDDLE_TEXT, Dialogue(_ask_check_in)), timeout=10)
        assert _check_ins(answered)
        assert not any(task.done() for task in waiting)


async def test_a_too_long_middle_band_message_gets_the_check_in(
    middle_band: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(failsafe, "MAX_MESSAGE_CHARS", 60)
    dialogue = Dialogue(_say_hello)
    collector = await _run("word " * 20 + MIDDLE_TEXT, dialogue)
    assert dialogue.received == []
    assert collector.messages == await _expected_check_in()


async def test_a_middle_band_message_is_counted(
    middle_band: None, counts_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(failsafe.REGION_ENV, raising=False)
    await _run(MIDDLE_TEXT, Dialogue(_ask_check_in))
    assert await _counts(counts_url) == {("US", "test"): 1}


async def test_an_edited_middle_band_message_gets_the_static_check_in(middle_band: None) -> None:
    collector = CollectingOutputChannel()
    fired = await failsafe.answer_if_crisis(MIDDLE_TEXT, collector, SENDER, channel="test")
    assert fired
    assert collector.messages == await _expected_check_in()


async def test_the_middle_band_is_logged_without_the_words(
    middle_band: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _run(MIDDLE_TEXT, Dialogue(_raise))
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("middle-band" in line and "burden" in line for line in loud)
    assert not any("better off" in line or SENDER in line for line in loud)


# A question the user saw from the floor but the dialogue never recorded: the next message
# carries it, so that a typed "yes" or "no" is still read as the answer (bot.safety.open_question).


class MetadataDialogue(Dialogue):
    """Records the metadata of each message it is given."""

    def __init__(self, answer: Callable[[UserMessage], Awaitable[None]] | None = None) -> None:
        super().__init__(answer)
        self.metadata: list[Any] = []

    async def __call__(self, message: UserMessage) -> None:
        self.metadata.append(message.metadata)
        await super().__call__(message)


async def _lose_the_store(message: UserMessage) -> None:
    raise TrackerStoreUnavailable("save")


async def _next_metadata(text: str = "no", metadata: Any = None) -> Any:
    dialogue = MetadataDialogue(_say_hello)
    await _handle(dialogue, text, CollectingOutputChannel(), metadata)
    return dialogue.metadata[0]


@pytest.mark.parametrize("answer", [_raise, None, _say_hello, _lose_the_store])
async def test_a_static_check_in_the_dialogue_did_not_ask_is_noted_for_the_reply(
    middle_band: None, answer: Callable[[UserMessage], Awaitable[None]] | None
) -> None:
    collector = await _run(MIDDLE_TEXT, Dialogue(answer))
    assert len(_check_ins(collector)) == 1
    assert await _next_metadata() == {OPEN_QUESTION_KEY: OPEN_CHECK_IN}
    assert await _next_metadata() is None  # only the very next message


async def test_a_check_in_the_dialogue_asked_is_not_noted(middle_band: None) -> None:
    await _run(MIDDLE_TEXT, Dialogue(_ask_check_in))
    assert await _next_metadata() is None


async def test_a_late_dialogue_that_asked_in_the_end_is_not_noted(
    middle_band: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = await _run_late(_ask_check_in, monkeypatch)
    assert len(_check_ins(collector)) == 1
    assert await _next_metadata() is None


@pytest.mark.parametrize("answer", [_raise, _say_hello, _lose_the_store])
async def test_resources_the_dialogue_did_not_repeat_are_noted_for_the_reply(
    answer: Callable[[UserMessage], Awaitable[None]],
) -> None:
    collector = await _run(CRISIS_TEXT, Dialogue(answer))
    assert _has_resources(collector)
    assert await _next_metadata("nope", {"locale": "en"}) == {
        "locale": "en",
        OPEN_QUESTION_KEY: SAFETY,
    }


async def test_resources_the_dialogue_gave_too_are_not_noted() -> None:
    await _run(CRISIS_TEXT, Dialogue(_send_resources))
    assert await _next_metadata() is None


async def test_a_crisis_in_an_over_long_message_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failsafe, "MAX_MESSAGE_CHARS", 200)
    collector = await _run(CRISIS_TEXT + " " + "and so on " * 50, Dialogue(_say_hello))
    assert _has_resources(collector)
    assert await _next_metadata() == {OPEN_QUESTION_KEY: SAFETY}


async def test_a_crisis_edit_answered_by_the_floor_alone_is_noted() -> None:
    collector = CollectingOutputChannel()
    assert await failsafe.answer_if_crisis(CRISIS_TEXT, collector, SENDER, channel="test")
    assert await _next_metadata() == {OPEN_QUESTION_KEY: SAFETY}


async def test_a_client_cannot_say_a_question_is_open() -> None:
    sent = {OPEN_QUESTION_KEY: SAFETY, "locale": "en"}
    assert await _next_metadata("yes", sent) == {"locale": "en"}
    assert await _next_metadata("yes", {OPEN_QUESTION_KEY: "check_in"}) == {}


async def test_another_sender_does_not_get_the_note() -> None:
    await _run(CRISIS_TEXT, Dialogue(_raise))
    dialogue = MetadataDialogue(_say_hello)
    message = UserMessage("no", CollectingOutputChannel(), "someone-else", input_channel="test")
    await failsafe.handle_message(dialogue, message, channel="test", known_intents=KNOWN)
    assert dialogue.metadata == [None]
    assert await _next_metadata() == {OPEN_QUESTION_KEY: SAFETY}
