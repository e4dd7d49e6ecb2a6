"""Reporting the bot's last reply, without Rasa: which reply it was, and reading the answers.

A user can report the bot's last reply ("report this reply", or the button under the answers to
"Are you safe right now?") for the people who run Secure Base to review. The reply is the bot's
last turn: everything it said in answer to one message. It is named without its words
(:func:`last_reply`): the response or action names of that turn and the time of its first
message, ``utter_crisis_not_safe@2026-12-06T21:03:14.123Z``. Static responses are known by
name; an action's words may hold what the user wrote (a safety plan read back), so no text and
no hash of it is kept: the operator finds the turn by its name and time.

Pure functions over rasa-sdk's event dicts, tested directly; ``actions/report_reply.py`` wires
them to the form.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bot.content import DATA_DIR
from bot.dialogue.texts import TextBook, plain, shorten
from bot.journal.inputs import REPLY_ID_LIMIT, REPORT_NOTE_LIMIT

TEXTS_FILE = DATA_DIR / "report_reply" / "texts.yml"
INTENT = "report_reply"
NOTE_LIMIT = REPORT_NOTE_LIMIT
# Enough of the reply's first words for the user to recognise it.
QUOTE_CHARS = 60
# At most this many names in one reply id (a turn rarely has more than two).
MAX_NAMES = 4
YES, NO, SKIP = "yes", "no", "skip"

# The report's own actions: their turns are never the reply reported.
OWN_ACTIONS = frozenset(
    {
        "action_start_report_reply",
        "report_reply_form",
        "action_ask_report_consent",
        "action_ask_report_note",
        "action_explain_report_reply_step",
        "action_save_reply_report",
    }
)
# Turns that answered these messages are steps on the way to a report, not what is reported:
# the report request itself (mid-exercise the kit names it back and offers a pause), and the
# pause that followed.
PASSING_INTENTS = frozenset({INTENT, "stop_exercise"})

TEXT_SPEC: dict[str, frozenset[str]] = {
    "intro": frozenset({"quote"}),
    **plain("intro_unquoted", "nothing", "ask.report_consent", "saved", "declined"),
    "ask.report_note": frozenset({"limit"}),
    **plain("buttons.report_it", "buttons.leave_it", "buttons.no_note"),
    **plain("hints.consent_unclear", "hints.note_go_ahead"),
    "hints.note_too_long": frozenset({"limit"}),
    **plain("why.report_consent", "why.report_note"),
}


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The report's words, checked (placeholders, button lengths) when first read."""
    return TextBook.for_skill(TEXTS_FILE, TEXT_SPEC)


# --- which reply --------------------------------------------------------------------------------


@dataclass
class _Turn:
    intent: str | None
    names: list[str] = field(default_factory=list)
    messages: list[Mapping[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    """The bot's last reply: its id (names and time, never its words) and a short quote of its
    first words to show the user which one it was (None when it had no text)."""

    reply_id: str
    quote: str | None


def _turns(events: Iterable[Mapping[str, Any]]) -> list[_Turn]:
    """The conversation as turns: each user message with what the bot said after it."""
    turns = [_Turn(None)]
    action: str | None = None
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            turns, action = [_Turn(None)], None
        elif kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            turns.append(_Turn(intent))
            action = None
        elif kind == "action":
            action = event.get("name")
        elif kind == "bot":
            metadata = event.get("metadata") or {}
            name = metadata.get("utter_action") or action or "unknown"
            turns[-1].names.append(str(name))
            turns[-1].messages.append(event)
    return turns


def _is_own(turn: _Turn) -> bool:
    return all(name in OWN_ACTIONS for name in turn.names)


def _timestamp(moment: Any) -> str:
    if not isinstance(moment, int | float):
        return "unknown-time"
    when = datetime.fromtimestamp(moment, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def reply_id(names: Iterable[str], moment: Any) -> str:
    """``name+name@time``: the turn's distinct names in order (at most ``MAX_NAMES``) and the
    time of its first message, in UTC to the millisecond."""
    distinct = list(dict.fromkeys(names))
    shown = distinct[:MAX_NAMES] + (["more"] if len(distinct) > MAX_NAMES else [])
    stamp = "@" + _timestamp(moment)
    return "+".join(shown)[: REPLY_ID_LIMIT - len(stamp)] + stamp


def last_reply(events: Iterable[Mapping[str, Any]]) -> Reply | None:
    """The bot's reply before the latest user message (which asked to report it), or None.

    Skips turns in which the bot said nothing, the report's own turns, and the turns that
    answered a report request or a pause on the way here (``PASSING_INTENTS``).
    """
    turns = _turns(events)[:-1]  # the last turn is the request being answered now
    for turn in reversed(turns):
        if not turn.messages or turn.intent in PASSING_INTENTS or _is_own(turn):
            continue
        first_text = next((m.get("text") for m in turn.messages if m.get("text")), None)
        quote = shorten(first_text, QUOTE_CHARS) if first_text else None
        return Reply(reply_id(turn.names, turn.messages[0].get("timestamp")), quote)
    return None


# --- reading the answers -----------------------------------------------------------------------

_YES_RE = re.compile(
    r"^(yes|yeah|yep|yup|ya|y|ok|okay|sure|please|yes please|go ahead|do it|report it|"
    r"yes report it|yes,? report it)[.!]*$",
    re.IGNORECASE,
)
_NO_RE = re.compile(
    r"^(no|nope|nah|n|no thanks|no thank you|don'?t|leave it|no,? leave it|never ?mind|"
    r"forget it|cancel|not now)[.!]*$",
    re.IGNORECASE,
)
_NOTE_SKIP_RE = re.compile(
    r"^(skip|no|nope|nah|none|nothing|no note|no thanks|no thank you|not really|pass|n/?a|"
    r"that'?s all|that'?s it)[.!]*$",
    re.IGNORECASE,
)
_GO_AHEAD_RE = re.compile(
    r"^(yes|yeah|yep|yup|ok|okay|sure|alright|all right|yes please|i'?d like to|i want to)[.!]*$",
    re.IGNORECASE,
)


def _squashed(text: str | None) -> str:
    return " ".join((text or "").split())


def read_consent(value: Any, text: str | None, intent: str | None) -> bool | None:
    """The answer to "Shall I report it?": True, False, or None when unclear.

    ``value`` is the slot's candidate (a button's ``yes``/``no``), ``text`` the typed message.
    """
    if value in (YES, NO):
        return value == YES
    if intent in ("affirm", INTENT):
        return True
    if intent == "deny":
        return False
    typed = _squashed(text)
    if _YES_RE.match(typed):
        return True
    if _NO_RE.match(typed):
        return False
    return None


@dataclass(frozen=True)
class NoteReading:
    """The note as it will be kept ("" when skipped), or the hint to give instead."""

    note: str | None = None
    hint: str | None = None


def read_note(value: Any, text: str | None, intent: str | None) -> NoteReading:
    """The optional note: the No-note button or a typed "no" skips it; a "yes" is not a note;
    a note over ``NOTE_LIMIT`` characters is refused (never cut: the user chooses the words)."""
    if value == SKIP or intent == "deny":
        return NoteReading(note="")
    typed = (text or "").strip()
    if not typed or _NOTE_SKIP_RE.match(_squashed(typed)):
        return NoteReading(note="")
    if _GO_AHEAD_RE.match(_squashed(typed)):
        return NoteReading(hint="hints.note_go_ahead")
    if len(typed) > NOTE_LIMIT:
        return NoteReading(hint="hints.note_too_long")
    return NoteReading(note=typed)
