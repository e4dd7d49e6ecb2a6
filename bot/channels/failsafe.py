"""The floor below the dialogue: every public channel hands each user message to this module.

If the model, the action server, the tracker store or the NLU pipeline fails, a message that
signals a crisis still gets the static crisis resources, and no message is ever met with silence.
Crisis detection runs on the raw text before Rasa sees it, so it does not depend on anything Rasa
loads. Typed text cannot pick an intent with a leading ``/`` (Rasa issue 5075).

A middle-band message (the detector's tier ``check_in``: a passive wish, a goodbye, a burden
statement) is not met with the full resources first: the dialogue asks the check-in question
(``bot.policies.check_in``) and reads the reply. Should the dialogue fail, take longer than
``CHECK_IN_DEADLINE_SECONDS``, or answer with neither the check-in nor the resources, this module
sends the static check-in itself (the question, a crisis line and its buttons).

The answers to "Are you safe right now?" go out with a "Report this reply" button
(``resources.with_answer_buttons``; the report itself is a dialogue skill, issue 19).

Every crisis answer, the floor's or the dialogue's, is followed by the user's own safety plan
(steps 2 to 4) when they have one (``bot.channels.own_plan``): read after the static lines went
out, with a short deadline, and left out whenever the journal cannot give it in time.

Every other message first gets the notice that the user is talking to an automated program, not
a person, when it is due (``bot.channels.ai_notice``: the first message, a return after 7 days,
every 3 hours of a conversation), before the dialogue runs, so neither the dialogue nor the
action server can hold it back. A crisis turn shows none: its answer stays as it is.

Whenever the user saw a question from this floor that the dialogue did not record (its turn
failed, was lost to a store outage, or answered with something else), the question is noted
(``bot.channels.open_questions``) and the user's next message carries it in its metadata, so
that a typed "yes" or "no" is still read as the answer (``bot.safety.open_question``).

Nothing here logs raw user text or sender ids at INFO or above.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import functools
import json
import logging
import os
import re
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage

from bot import safety
from bot.channels import ai_notice, own_plan
from bot.channels.open_questions import OpenQuestions, open_questions_from_env
from bot.journal.tracker_store import TrackerStoreUnavailable
from bot.safety import counter, resources
from bot.safety.detector import TIER_CHECK_IN
from bot.safety.open_question import CHECK_IN, OPEN_QUESTION_KEY, SAFETY

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOMAIN_ENV = "SECURE_BASE_DOMAIN"
DEFAULT_DOMAIN_DIR = PROJECT_ROOT / "domain"
MAX_CHARS_ENV = "SECURE_BASE_MAX_MESSAGE_CHARS"
REGION_ENV = "SECURE_BASE_REGION"
DEFAULT_REGION = "US"


MAX_IN_FLIGHT_ENV = "SECURE_BASE_MAX_IN_FLIGHT"


def _positive_int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
    return value


def _max_chars_from_env() -> int:
    return _positive_int_from_env(MAX_CHARS_ENV, 4000)


# Read once at import (settings, not side effects); tests may patch the module attributes.
MAX_MESSAGE_CHARS: int = _max_chars_from_env()
# How many messages one process lets into the dialogue at once; the others wait their turn, in
# order. The NLU and policies hold the event loop while they run, so a message that awaits the
# action server otherwise comes back behind every message that arrived meanwhile: with 20 busy
# conversations, turns with several custom actions waited 3 s while the median was 0.3 s.
# Crisis messages never wait here.
MAX_IN_FLIGHT: int = _positive_int_from_env(MAX_IN_FLIGHT_ENV, 4)
# How long a middle-band message waits for the dialogue's check-in before the static one goes out
# (the dialogue's own copy is then not delivered twice). Its turn skips the queue, but it can
# still wait behind this user's previous turn (the tracker lock) or a slow action server.
CHECK_IN_DEADLINE_SECONDS: float = 10.0

# These few lines live in code, not in the domain, on purpose: they must reach the user when the
# model, the domain or the content files could not be loaded at all.
TOO_LONG_TEXT = (
    "That's more than I can read in one go. Could you send it to me in a few shorter messages?"
)
# A message that could not be decoded at all (malformed or crafted JSON): never silence.
UNREADABLE_TEXT = "Sorry, I couldn't read that message. Could you type it again in plain words?"
EMPTY_TEXT = "I'm here whenever you're ready. Type a few words and we'll go from there."
APOLOGY_TEXT = "Sorry, I couldn't answer that just now. Please try again in a moment."
# The conversation store is down: the message was not kept, so the user should send it again.
UNAVAILABLE_TEXT = (
    "Sorry, I can't reach my notes right now, so I couldn't take that message in. "
    "Please send it again in a minute or two."
)
# The last floor, used only if even the crisis resource content cannot be loaded.
LAST_RESORT_RESOURCES_TEXT = (
    "If you might be in danger right now, please reach out for help now.\n"
    "US and Canada: call or text 988. UK and Ireland: Samaritans on 116 123. "
    "Australia: Lifeline on 13 11 14. Elsewhere: findahelpline.com lists a line near you, "
    "or call your local emergency number."
)

# Lone surrogates cannot be encoded as UTF-8 anywhere downstream (a JSON body may carry them as
# \udXXX escapes); NULs are refused by PostgreSQL. Neither carries meaning.
_UNENCODABLE_RE = re.compile("[\ud800-\udfff\x00]")


def clean_text(text: object) -> str:
    """The message text every channel's message is read as: lone surrogates and NULs removed.

    Anything but a string (a client sending ``null`` or a number) reads as empty text.
    """
    return _UNENCODABLE_RE.sub("", text) if isinstance(text, str) else ""


# A button payload as Rasa builds it: "/intent" optionally followed by a JSON object of entities.
_PAYLOAD_RE = re.compile(r"/(?P<intent>[A-Za-z0-9_\-]+)(?P<entities>\{.*\})?", re.DOTALL)
_LEADING_SLASHES_RE = re.compile(r"^[\s/]+")


def guard_text(text: str, known_intents: Collection[str]) -> str:
    """Return the text Rasa may see: only an exact button payload may name an intent.

    Rasa reads any text starting with ``/`` as an intent with confidence 1, so typed text like
    ``/greet I want to die`` would skip NLU (and the crisis intent) entirely.
    """
    if not text.startswith("/"):
        return text
    match = _PAYLOAD_RE.fullmatch(text)
    if match and match["intent"] in known_intents:
        entities = match["entities"]
        if entities is None:
            return text
        try:
            parsed = json.loads(entities)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return text
    # Strip slashes (and the spaces between them, as in "/ /greet") so NLU reads words.
    return _LEADING_SLASHES_RE.sub("", text)


def _intent_names(entries: Any, source: Path) -> Iterable[str]:
    if entries is None:
        return
    if not isinstance(entries, list):
        raise ValueError(f"{source}: 'intents' must be a list, got {type(entries).__name__}")
    for entry in entries:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict) and len(entry) == 1:
            yield str(next(iter(entry)))
        else:
            raise ValueError(f"{source}: 'intents' has an entry that is not a name: {entry!r}")


def default_domain_dir() -> Path:
    """The domain directory (``SECURE_BASE_DOMAIN`` overrides the repo's ``domain/``)."""
    return Path(os.environ.get(DOMAIN_ENV) or DEFAULT_DOMAIN_DIR)


def known_intents_from_domain(domain_dir: Path | None = None) -> frozenset[str]:
    """The intent names of the domain YAML files (a directory or one file), read once.

    Every channel asks this so a button payload can be told from typed text; the files are read
    on the first call per path (at start-up, see the channels' ``blueprint``) and cached for the
    process. Errors name the file (not cached: a fixed file is read on the next call).
    """
    return _intents_in(Path(domain_dir) if domain_dir is not None else default_domain_dir())


@functools.lru_cache(maxsize=8)
def _intents_in(path: Path) -> frozenset[str]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"domain not found: {path} (set {DOMAIN_ENV})")
    names: set[str] = set()
    for file in files:
        try:
            content = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{file}: not valid YAML ({exc})") from exc
        if content is None:
            continue
        if not isinstance(content, dict):
            raise ValueError(f"{file}: a domain file must be a mapping")
        names.update(_intent_names(content.get("intents"), file))
    return frozenset(names)


class RecordingOutputChannel(OutputChannel):
    """Forwards every send to the real output channel and remembers what was sent.

    Lets the fail-safe see whether the dialogue answered at all, and whether it already sent the
    crisis resources, without changing what the user receives.
    """

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.sent_count = 0

    # Rasa picks channel-specific response variations by ``output_channel.name()``.
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name()

    def _record(self, *texts: Any) -> None:
        self.sent_count += 1
        self.texts.extend(t for t in texts if isinstance(t, str) and t)

    @staticmethod
    def _button_titles(buttons: Any) -> list[Any]:
        if not isinstance(buttons, list):
            return []
        return [b.get("title") for b in buttons if isinstance(b, dict)]

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        # The answers to "Are you safe right now?" go out with "Report this reply" (issue 19):
        # added here, so the reviewed responses and the dialogue stay as they are.
        message = resources.with_answer_buttons(message)
        buttons = message.get("buttons") or message.get("quick_replies")
        self._record(message.get("text"), *self._button_titles(buttons))
        # The stock send_response pops keys from the dict: give the real channel its own copy.
        await self.inner.send_response(recipient_id, copy.deepcopy(message))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self._record(text)
        await self.inner.send_text_message(recipient_id, text, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        self._record()
        await self.inner.send_image_url(recipient_id, image, **kwargs)

    async def send_attachment(  # type: ignore[override]
        self, recipient_id: str, attachment: Any, **kwargs: Any
    ) -> None:
        self._record()
        await self.inner.send_attachment(recipient_id, attachment, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        self._record(text, *self._button_titles(buttons))
        await self.inner.send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        self._record(text, *self._button_titles(quick_replies))
        await self.inner.send_quick_replies(recipient_id, text, quick_replies, **kwargs)

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        self._record()
        await self.inner.send_elements(recipient_id, elements, **kwargs)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        self._record(json_message.get("text") if isinstance(json_message, dict) else None)
        await self.inner.send_custom_json(recipient_id, json_message, **kwargs)


async def _send_all(
    output: OutputChannel, recipient_id: str, messages: Iterable[dict[str, Any]], what: str
) -> None:
    for message in messages:
        try:
            await output.send_response(recipient_id, copy.deepcopy(message))
        except Exception as exc:  # the user may have gone; nothing more we can do
            logger.error("fail-safe could not send the %s (%s)", what, type(exc).__name__)
            return


async def _send_resources(
    output: OutputChannel, recipient_id: str, region: str | None, categories: tuple[str, ...]
) -> None:
    try:
        messages = list(resources.crisis_messages(region, categories))
    except Exception as exc:
        logger.error("crisis resources failed to load (%s)", type(exc).__name__)
        messages = []
    if not messages:
        messages = [{"text": LAST_RESORT_RESOURCES_TEXT}]
    await _send_all(output, recipient_id, messages, "crisis resources")


def _detect(text: str) -> safety.CrisisResult | None:
    try:
        return safety.detect(text)
    except Exception as exc:  # detect promises not to raise; the floor does not rely on it
        logger.error("crisis detection failed (%s)", type(exc).__name__)
        return None


async def _detect_and_answer(
    text: str,
    output: OutputChannel,
    recipient: str,
    region: str | None,
    channel: str,
) -> safety.CrisisResult | None:
    """Read the text for a crisis in a worker thread, and send the full resources if it is one.

    The detector's encoder pass and the normaliser take from a few milliseconds to a second or
    more on a long text: on the event loop they would hold every other conversation of the
    process. The reading and the answer run as one task that a cancelled caller (a client gone,
    a response timeout) does not stop, so a crisis found after the caller left is still answered.
    """

    async def read_and_answer() -> safety.CrisisResult | None:
        result = await asyncio.to_thread(_detect, text)
        if result and result.is_crisis and not _is_check_in(result):
            categories = tuple(result.categories)
            logger.info(
                "crisis message on channel %s (categories: %s)", channel, ",".join(categories)
            )
            await _answer_crisis(output, recipient, region, categories, channel)
        return result

    task = asyncio.ensure_future(read_and_answer())
    keep_running(task)
    return await asyncio.shield(task)


_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _admission() -> asyncio.Semaphore:
    """The gate of the running event loop (an asyncio primitive belongs to one loop)."""
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(MAX_IN_FLIGHT)
    return gate


def _detection_text(raw: str) -> str:
    """What the detector reads: all of a message within the limit, else its two ends.

    The normaliser costs time in proportion to the text (1 MB took 4.4 s, holding the event
    loop for every conversation of the process); a too-long message is never passed on, so only
    its beginning and end, where people put what matters, are read for a crisis.
    """
    if len(raw) <= MAX_MESSAGE_CHARS:
        return raw
    return raw[:MAX_MESSAGE_CHARS] + "\n" + raw[-MAX_MESSAGE_CHARS:]


MAX_METADATA_BYTES = 8 * 1024
MAX_METADATA_DEPTH = 8
_MAX_METADATA_NODES = 512


def bounded_metadata(metadata: Any) -> dict[str, Any] | None:
    """``metadata`` if it is a small, shallow JSON object, else None (it is stored per event).

    Walked without recursion, so a crafted deep structure cannot raise RecursionError here.
    """
    if not isinstance(metadata, dict):
        return None
    stack: list[tuple[Any, int]] = [(metadata, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_METADATA_DEPTH or nodes > _MAX_METADATA_NODES:
            return None
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((v, depth + 1) for v in value)
    try:
        size = len(json.dumps(metadata, ensure_ascii=False, default=str).encode("utf-8"))
    except (TypeError, ValueError):
        return None
    return metadata if size <= MAX_METADATA_BYTES else None


# Every crisis is counted in one worker thread: a slow or unreachable database (PostgreSQL's
# connect timeout is seconds) must never hold the event loop, nor take the threads Rasa and
# SQLAlchemy use. Counts wait in order; past the bound they are dropped with a warning, so an
# outage cannot grow memory without end.
MAX_PENDING_COUNTS = 1000
_count_pool: ThreadPoolExecutor | None = None
_pending_counts: deque[concurrent.futures.Future[None]] = deque()
_background: set[asyncio.Future[Any]] = set()


def keep_running(task: asyncio.Future[Any]) -> None:
    """Hold a reference to a background task until it ends."""
    # The loop holds only weak references to tasks: one nobody keeps can vanish mid-send.
    _background.add(task)
    task.add_done_callback(_background.discard)


def _count_later(region: str | None, channel: str) -> None:
    global _count_pool
    while _pending_counts and _pending_counts[0].done():
        _pending_counts.popleft()
    if len(_pending_counts) >= MAX_PENDING_COUNTS:
        logger.warning("crisis counter backlog full; one crisis event not counted")
        return
    if _count_pool is None:
        _count_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crisis-counter")
    where = region or os.environ.get(REGION_ENV) or DEFAULT_REGION
    # A thread's future, not the loop's: nothing here awaits it, and it outlives any one loop.
    _pending_counts.append(_count_pool.submit(counter.record, where, channel))


async def wait_for_counts(timeout: float = 30.0) -> None:
    """Wait until the crisis counts queued so far are written (tests; a clean shutdown)."""
    pending = [f for f in _pending_counts if not f.done()]
    if pending:
        await asyncio.to_thread(concurrent.futures.wait, pending, timeout)


async def _answer_crisis(
    output: OutputChannel,
    recipient: str,
    region: str | None,
    categories: tuple[str, ...],
    channel: str,
) -> None:
    await _send_resources(output, recipient, region, categories)
    _count_later(region, channel)
    await _send_own_plan(output, recipient)


async def _send_own_plan(output: OutputChannel, recipient: str) -> None:
    """The user's own safety plan after a crisis answer, when there is one (see the module)."""
    try:
        message = await own_plan.own_plan_message(recipient)
    except Exception as exc:  # the static answer is out; the plan is only ever an addition
        logger.error("own safety plan failed (%s)", type(exc).__name__)
        return
    if message is not None:
        await _send_all(output, recipient, [message], "own safety plan")


async def _send_ai_notice(output: OutputChannel, recipient: str) -> None:
    """The "program, not a person" notice when it is due (``bot.channels.ai_notice``)."""
    try:
        message = await ai_notice.notice_message(recipient)
    except Exception as exc:  # its text could not be loaded: checked at start-up, never expected
        logger.error("AI notice failed (%s)", type(exc).__name__)
        return
    if message is not None:
        await _send_all(output, recipient, [message], "AI notice")


async def answer_if_crisis(
    text: str, output: OutputChannel, recipient: str, *, channel: str, region: str | None = None
) -> bool:
    """The floor alone, for text that does not go to the dialogue (an edited Telegram message):
    the resources if the detector fires (the static check-in for the middle band: its buttons
    are answered whenever they are pressed). Returns whether it fired."""
    raw = clean_text(text)
    result = await _detect_and_answer(_detection_text(raw), output, recipient, region, channel)
    if not (result and result.is_crisis):
        return False
    if _is_check_in(result):
        logger.info("middle-band message on channel %s (signs: %s)", channel, _signs(result))
        await _send_check_in(output, recipient, region)
        _count_later(region, channel)
        await _note_open_question(recipient, CHECK_IN)
    else:
        await _note_open_question(recipient, SAFETY)
    return True


_open_questions_store: OpenQuestions | None = None


def open_questions() -> OpenQuestions:
    """The process's notes of open questions (Redis-backed when configured)."""
    global _open_questions_store
    if _open_questions_store is None:
        _open_questions_store = open_questions_from_env()
    return _open_questions_store


async def _note_open_question(recipient: str, kind: str) -> None:
    try:
        await open_questions().mark(recipient, kind)
    except Exception as exc:  # the answer went out; a lost note only weakens the next reading
        logger.error("open question not noted (%s)", type(exc).__name__)


async def _take_open_question(recipient: str) -> str | None:
    try:
        return await open_questions().take(recipient)
    except Exception as exc:
        logger.error("open question not read (%s)", type(exc).__name__)
        return None


def _is_check_in(result: safety.CrisisResult | None) -> bool:
    """The middle band alone: any other tier (or a broken result) gets the full resources."""
    return bool(result and result.is_crisis and getattr(result, "tier", None) == TIER_CHECK_IN)


def _signs(result: safety.CrisisResult | None) -> str:
    return ",".join(str(s) for s in getattr(result, "signs", ()) or ()) or "-"


async def _send_check_in(
    output: OutputChannel, recipient: str, region: str | None
) -> list[dict[str, Any]]:
    """Send the static check-in; returns what was sent."""
    try:
        messages = list(resources.check_in_messages(region))
    except (
        Exception
    ) as exc:  # check_in_messages promises not to raise; the floor does not rely on it
        logger.error("check-in text failed to load (%s)", type(exc).__name__)
        messages = []
    if not messages:
        messages = [{"text": LAST_RESORT_RESOURCES_TEXT}]
    await _send_all(output, recipient, messages, "check-in")
    return messages


class HoldingBackOutputChannel(RecordingOutputChannel):
    """A recording channel that holds back the dialogue's texts ``holds_back`` names: recorded
    as the dialogue's, not delivered a second time."""

    def holds_back(self, text: Any) -> bool:
        return False

    def _held_back(self, text: Any) -> bool:
        if self.holds_back(text):
            self._record(text)
            return True
        return False

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if not self._held_back(message.get("text")):
            await super().send_response(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if not self._held_back(text):
            await super().send_text_message(recipient_id, text, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if not self._held_back(text):
            await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if not self._held_back(text):
            await super().send_quick_replies(recipient_id, text, quick_replies, **kwargs)


class CrisisAnsweredOutputChannel(HoldingBackOutputChannel):
    """The dialogue's channel after the fail-safe has already sent the crisis resources.

    The dialogue still runs (its events, the form it stops, the safety question's state are all
    kept by Rasa), but a resource text the user already got is not delivered a second time.
    """

    def __init__(self, inner: OutputChannel, region: str | None, categories: Sequence[str]) -> None:
        super().__init__(inner)
        # What the fail-safe sent, and the generic (region-less) variant the dialogue shows
        # while no region is chosen: both say what the user already has. Another region's
        # lines (a region the user picked in the conversation) are new to them and go out.
        texts = [m.get("text", "") for m in resources.crisis_messages(region, categories)]
        try:
            generic = resources.catalogue().generic
            texts += [generic.resources, generic.abuse]
        except Exception as exc:
            logger.error("crisis resources unavailable (%s)", type(exc).__name__)
        self._known = {" ".join(t.split()) for t in texts if isinstance(t, str)}

    def holds_back(self, text: Any) -> bool:
        return (
            isinstance(text, str)
            and _is_resource_text(text)
            and " ".join(text.split()) in self._known
        )

    def asked_safety_question(self) -> bool:
        """Whether the dialogue itself asked "Are you safe right now?" (delivered or held back)."""
        return any(resources.is_safety_question_text(t) for t in self.texts)


class CheckInOutputChannel(HoldingBackOutputChannel):
    """The dialogue's channel for a middle-band message: notes whether the dialogue asked the
    check-in or gave the resources, and once the fail-safe has sent the static check-in (the
    dialogue was late), holds back the dialogue's copy of the same question (that text, or the
    generic one the dialogue uses while no region is chosen; a region chosen in the conversation
    still gets its own line)."""

    def __init__(self, inner: OutputChannel) -> None:
        super().__init__(inner)
        self._static: set[str] = set()

    @property
    def static_sent(self) -> bool:
        return bool(self._static)

    def mark_static_sent(self, messages: Iterable[dict[str, Any]]) -> None:
        texts = [m.get("text") for m in messages]
        try:
            texts.append(resources.catalogue().generic.check_in)
        except Exception as exc:
            logger.error("crisis resources unavailable (%s)", type(exc).__name__)
        self._static = {" ".join(t.split()) for t in texts if isinstance(t, str)}

    def forget_static(self) -> None:
        self._static = set()

    def answered(self) -> bool:
        """Whether anything sent so far asks the check-in or carries the resources."""
        return any(_is_check_in_text(t) or _is_resource_text(t) for t in self.texts)

    def holds_back(self, text: Any) -> bool:
        return isinstance(text, str) and " ".join(text.split()) in self._static


async def _run_with_check_in_deadline(
    dialogue: Awaitable[Any],
    recorder: CheckInOutputChannel,
    output: OutputChannel,
    recipient: str,
    region: str | None,
) -> None:
    """Run the dialogue; if it has not asked the check-in by the deadline, send the static one.

    The dialogue keeps running after the deadline (its events are kept by Rasa), and its own copy
    of the question is then held back by ``recorder``.
    """
    task = asyncio.ensure_future(dialogue)
    try:
        done, _ = await asyncio.wait({task}, timeout=CHECK_IN_DEADLINE_SECONDS)
        if not done and not recorder.answered():
            logger.warning("dialogue late on a middle-band message; the static check-in goes out")
            recorder.mark_static_sent(await _send_check_in(output, recipient, region))
        await task
    except asyncio.CancelledError:
        task.cancel()
        raise


async def handle_message(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    *,
    channel: str,
    known_intents: Collection[str],
    region: str | None = None,
) -> None:
    """Pass one user message to Rasa with the fail-safe around it.

    Limits come first, then crisis detection on the raw text; a crisis gets the static
    resources at once, before the dialogue (which may wait behind this user's earlier turn for
    a minute or more), and the dialogue's own copy is not repeated. A middle-band message goes to
    the dialogue for its check-in question, with the static check-in as the floor under it. A
    message that got no answer at all gets a short apology. The text is cleaned first
    (``clean_text``), on every channel alike.
    """
    raw = clean_text(message.text)
    output = message.output_channel
    recipient = message.sender_id

    result = await _detect_and_answer(_detection_text(raw), output, recipient, region, channel)
    is_crisis = bool(result and result.is_crisis)
    check_in = _is_check_in(result)
    categories: tuple[str, ...] = tuple(result.categories) if result and is_crisis else ()
    if check_in:
        logger.info("middle-band message on channel %s (signs: %s)", channel, _signs(result))
        _count_later(region, channel)
    if not is_crisis:  # a crisis answer stays as it is: a notice due comes with the next message
        await _send_ai_notice(output, recipient)

    if len(raw) > MAX_MESSAGE_CHARS:
        logger.info("message on channel %s too long (%d chars), not passed on", channel, len(raw))
        if check_in:
            await _send_check_in(output, recipient, region)
            await _note_open_question(recipient, CHECK_IN)
        elif is_crisis:
            await _note_open_question(recipient, SAFETY)
        else:
            await _send_all(output, recipient, [{"text": TOO_LONG_TEXT}], "too-long note")
        return

    text = guard_text(raw, known_intents) if raw.strip() else ""
    if not text.strip():
        if not is_crisis:  # a crisis in empty text cannot happen; it was answered if it did
            await _send_all(output, recipient, [{"text": EMPTY_TEXT}], "empty-message prompt")
        return

    recorder: RecordingOutputChannel
    if check_in:
        recorder = CheckInOutputChannel(output)
    elif is_crisis:
        recorder = CrisisAnsweredOutputChannel(output, region, categories)
    else:
        recorder = RecordingOutputChannel(output)
    # What a collecting channel (REST) already holds: the crisis resources stay whatever fails.
    kept = len(output.messages) if isinstance(output, CollectingOutputChannel) else 0
    guarded = copy.copy(message)
    guarded.text = text
    guarded.output_channel = recorder
    if message.metadata is not None:
        guarded.metadata = bounded_metadata(message.metadata)
        if guarded.metadata is None:
            logger.info("metadata on channel %s too large or deep; dropped", channel)
        elif OPEN_QUESTION_KEY in guarded.metadata:  # only this module may say a question is open
            guarded.metadata = {k: v for k, v in guarded.metadata.items() if k != OPEN_QUESTION_KEY}
    open_kind = await _take_open_question(recipient)
    if open_kind is not None:
        guarded.metadata = {**(guarded.metadata or {}), OPEN_QUESTION_KEY: open_kind}
    unavailable = False
    failed = False
    try:
        if isinstance(recorder, CheckInOutputChannel):  # straight in, with a deadline
            await _run_with_check_in_deadline(
                on_new_message(guarded), recorder, output, recipient, region
            )
        elif is_crisis:  # straight in, ahead of the queue
            await on_new_message(guarded)
        else:
            async with _admission():
                await on_new_message(guarded)
    except asyncio.CancelledError:
        raise
    except TrackerStoreUnavailable:
        # Logged by the store. Nothing of this turn was kept: whatever the dialogue produced
        # (a collecting channel has not delivered it yet) gives way to "send it again".
        unavailable = failed = True
        if isinstance(output, CollectingOutputChannel):
            del output.messages[kept:]
            recorder.texts.clear()
            if isinstance(recorder, CheckInOutputChannel):
                recorder.forget_static()  # it went with the rest: sent again below
    except Exception as exc:
        failed = True
        logger.error("dialogue failed on channel %s (%s)", channel, type(exc).__name__)
        logger.debug("dialogue failure details", exc_info=True)

    if not is_crisis and any(_is_crisis_answer_text(t) for t in recorder.texts):
        # The dialogue gave the crisis answer itself (the check-in's "yes", a second middle-band
        # message, the "crisis lines" button): the user's own plan follows it too.
        await _send_own_plan(output, recipient)
    if isinstance(recorder, CheckInOutputChannel):
        # Never silence, never a reply without the question: the static check-in is the floor.
        if not recorder.static_sent and not recorder.answered():
            await _send_check_in(output, recipient, region)
        if failed or not recorder.answered():
            await _note_open_question(recipient, CHECK_IN)
        return
    if is_crisis:
        # The static resources ask "Are you safe right now?"; the dialogue asked it too only if it
        # gave its own copy of them and its turn was kept.
        if failed or not (
            isinstance(recorder, CrisisAnsweredOutputChannel) and recorder.asked_safety_question()
        ):
            await _note_open_question(recipient, SAFETY)
        return
    if unavailable:
        await _send_all(output, recipient, [{"text": UNAVAILABLE_TEXT}], "unavailable note")
    elif recorder.sent_count == 0:
        await _send_all(output, recipient, [{"text": APOLOGY_TEXT}], "apology")


def _checked(check: Callable[[str], bool], what: str) -> Callable[[str], bool]:
    """``check`` that answers False, with an error logged, if the resources cannot be read."""

    def safe(text: str) -> bool:
        try:
            return bool(check(text))
        except Exception as exc:
            logger.error("%s check failed (%s)", what, type(exc).__name__)
            return False

    return safe


_is_resource_text = _checked(resources.is_resource_text, "resource")
_is_crisis_answer_text = _checked(resources.is_crisis_answer_text, "crisis answer")
_is_check_in_text = _checked(resources.is_check_in_text, "check-in text")
