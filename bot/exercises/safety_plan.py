"""The personal safety plan without Rasa: its steps, reading answers, and the plan as text.

Six steps after Stanley & Brown's Safety Planning Intervention (2012), in the user's own words
(``data/safety_plan/texts.yml``). Steps 1 to 5 are short lists; step 5 shows the crisis lines
of the user's region above their own; step 6 (making surroundings safer) is a static prompt
whose answer is one of three choices: what the user types there is never kept or shown back,
so no method detail can reach the plan (safe-messaging).

Pure functions, tested directly; ``actions/safety_plan.py`` wires them to the form, and the
channels' crisis answer uses :func:`crisis_text` for the user's own steps 2 to 4.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.content import DATA_DIR
from bot.dialogue.texts import TextBook, TextSpec, plain, using

TEXTS_FILE = DATA_DIR / "safety_plan" / "texts.yml"

# What one step keeps: a few short items. Longer answers are refused with a hint, never cut.
ANSWER_LIMIT = 600
ITEM_LIMIT = 200
MAX_ITEMS = 6


@dataclass(frozen=True)
class Step:
    number: int
    slot: str
    field: str  # the journal's column
    # Steps 1-3 are lists of short things ("walk, music"); a contact ("Mia, 07700 900123") keeps
    # its commas, so steps 4 and 5 split on new lines and semicolons only.
    commas_split: bool = True


STEPS: tuple[Step, ...] = (
    Step(1, "sp_warning_signs", "warning_signs"),
    Step(2, "sp_coping", "coping"),
    Step(3, "sp_social", "social"),
    Step(4, "sp_helpers", "helpers", commas_split=False),
    Step(5, "sp_professionals", "professionals", commas_split=False),
    Step(6, "sp_surroundings", "surroundings"),
)
SLOTS = tuple(step.slot for step in STEPS)
LIST_STEPS = STEPS[:5]
SURROUNDINGS_STEP = STEPS[5]
# The steps a crisis answer shows, under the static lines.
CRISIS_STEPS = (2, 3, 4)
# Step 6's three answers (its buttons); the summary says each in the plan's words.
SURROUNDINGS_CHOICES = ("done", "helper", "later")
SKIP = "skip"


def step(number: int) -> Step:
    return STEPS[number - 1]


def step_of_slot(slot: str | None) -> Step | None:
    return next((s for s in STEPS if s.slot == slot), None)


TEXT_SPEC: TextSpec = {
    **plain("intro", "replaces", "surroundings_typed", "offer"),
    "crisis": plain("intro"),
    "go_on": plain("start", "offer"),
    "ask": {
        **plain(*(s.slot for s in STEPS)),
        **using({"lines"}, "sp_professionals", "sp_professionals_anywhere"),
    },
    "buttons": plain(
        "skip",
        "thats_all",
        "surroundings_done",
        "surroundings_helper",
        "surroundings_later",
        "make",
        "not_now",
        "show",
        "menu",
        "pin",
        "go_on",
        *(f"step_{s.number}" for s in STEPS),
    ),
    "hints": {
        **plain("empty", "surroundings_unclear", "go_ahead"),
        **using({"limit"}, "too_long", "too_many", "item_too_long"),
    },
    "why": plain(*SLOTS),
    "steps": plain(*(str(s.number) for s in STEPS)),
    "summary": plain(
        "title",
        "skipped",
        "saved",
        "after",
        *(f"surroundings_{choice}" for choice in SURROUNDINGS_CHOICES),
    ),
    "show": plain("none", "edit_hint"),
    "edit": {
        **plain("which", "no_plan"),
        **using({"number"}, "unknown", "start", "unchanged", "saved"),
    },
    "pin": plain("offer", "done", "elsewhere"),
}


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The plan's words, checked (placeholders, button lengths) when first read."""
    return TextBook.for_skill(TEXTS_FILE, TEXT_SPEC)


# --- reading answers ----------------------------------------------------------------------

_SKIP_RE = re.compile(
    r"^(skip( (this|it|that|this one|this step|for now))?|pass|next|not now|later|"
    r"no|nope|none|nothing|nobody|no one|n/?a|idk|i don'?t know|not sure|that'?s all|"
    r"that'?s it|no thanks|no thank you|i'?m done|done)[.! ]*$",
    re.IGNORECASE,
)
# "yes", "ok", "sure": said to the step's question as if it were asked for permission. Kept as
# a warning sign, "yes" read back as one in the summary (found trying the plan as a new user).
_GO_AHEAD_RE = re.compile(
    r"^(yes|yeah|yep|yup|ya|ok|okay|k|kk|sure|alright|all right|right|fine|cool|go on|"
    r"go ahead|sounds good|let'?s do it|let'?s go|ready|i'?m ready|yes please|ok then)[.!? ]*$",
    re.IGNORECASE,
)
_BULLET_RE = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")


def is_skip(text: str | None) -> bool:
    """Whether ``text`` leaves the step empty ("skip", the button, "none", "that's all")."""
    return bool(text) and bool(_SKIP_RE.match(" ".join(text.split())))


def is_go_ahead(text: str | None) -> bool:
    """Whether ``text`` only says "go on" ("yes", "ok"), which is not an item of any step."""
    return bool(text) and bool(_GO_AHEAD_RE.match(" ".join(text.split())))


@dataclass(frozen=True)
class ItemsReading:
    """A step's answer as items, or why it cannot be kept (a hint key and its limit)."""

    items: tuple[str, ...] = ()
    problem: str | None = None
    limit: int = 0


def read_items(text: str, step: Step) -> ItemsReading:
    """The answer split into items: new lines, semicolons and bullets (and commas for the
    short-list steps) separate them; each is trimmed, and empty or repeated ones dropped."""
    cleaned = text.replace("\x00", "").strip()
    if len(cleaned) > ANSWER_LIMIT:
        return ItemsReading(problem="hints.too_long", limit=ANSWER_LIMIT)
    separators = r"[\n;]" if not step.commas_split else r"[\n;,]"
    items: list[str] = []
    seen: set[str] = set()
    for part in re.split(separators, cleaned):
        item = " ".join(_BULLET_RE.sub("", part).split()).strip(" .")
        if not item or item.casefold() in seen:
            continue
        if len(item) > ITEM_LIMIT:
            return ItemsReading(problem="hints.item_too_long", limit=ITEM_LIMIT)
        seen.add(item.casefold())
        items.append(item)
    if not items:
        return ItemsReading(problem="hints.empty")
    if len(items) > MAX_ITEMS:
        return ItemsReading(problem="hints.too_many", limit=MAX_ITEMS)
    return ItemsReading(items=tuple(items))


def items_of(value: Any) -> list[str]:
    """The items a slot holds (kept one per line), or a stored list; [] for none."""
    if isinstance(value, str):
        return [line for line in value.split("\n") if line.strip()]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if isinstance(item, str) and item.strip()]
    return []


_CHOICE_WORDS = {
    "done": re.compile(
        r"\b(yes|yeah|yep|yup|done|i have|i did|thought about it|sorted|taken care of|in hand)\b",
        re.I,
    ),
    "helper": re.compile(r"\b(ask|someone|somebody|help|friend|partner|family)\b", re.I),
    "later": re.compile(r"\b(not yet|later|no|nope|not really|haven'?t|maybe|skip)\b", re.I),
}


def surroundings_choice(text: str | None) -> str | None:
    """Step 6's answer as one of ``SURROUNDINGS_CHOICES`` (a button, or a short yes/no-like
    reply); None when it is not one of them (the words are then not kept)."""
    if not text:
        return None
    words = " ".join(text.split()).casefold()
    if words in SURROUNDINGS_CHOICES:
        return words
    if len(words) > 40:
        return None
    # "not yet" before "yes": the first choice whose words appear, checked most careful first.
    for choice in ("later", "helper", "done"):
        if _CHOICE_WORDS[choice].search(words):
            return choice
    return None


# --- "edit step 4" --------------------------------------------------------------------------

_NUMBER_WORDS = {
    "one": 1, "first": 1, "two": 2, "second": 2, "three": 3, "third": 3, "four": 4,
    "fourth": 4, "five": 5, "fifth": 5, "six": 6, "sixth": 6, "seven": 7, "seventh": 7,
    "eight": 8, "eighth": 8, "nine": 9, "ninth": 9, "ten": 10, "tenth": 10,
}  # fmt: skip
_STEP_NAMES = (
    (1, re.compile(r"warning|signs?\b|triggers?", re.I)),
    (2, re.compile(r"on my own|by myself|distract|coping|things i can do", re.I)),
    (3, re.compile(r"places?|people and places|company", re.I)),
    (4, re.compile(r"ask for help|contacts?|people i can ask|who i can (ask|call)", re.I)),
    (5, re.compile(r"professional|crisis lines?|therapist|\bgp\b|doctor|hotline", re.I)),
    (6, re.compile(r"surroundings|safer|environment|my space", re.I)),
)
_NUMBER_RE = re.compile(r"\b(\d{1,3})(?:st|nd|rd|th)?\b|\b(" + "|".join(_NUMBER_WORDS) + r")\b")


def step_number(text: str | None, entity: Any = None) -> int | None:
    """The step number the user asked to edit: a button's entity, a number ("step 4", "four",
    "the 2nd"), or a step's name ("my warning signs"). It may be out of range (checked by the
    caller, who says so); None when no step is named at all."""
    if entity is not None:
        try:
            return int(str(entity).strip())
        except ValueError:
            pass
    words = " ".join((text or "").split()).casefold()
    match = _NUMBER_RE.search(words)
    if match:
        return int(match[1]) if match[1] else _NUMBER_WORDS[match[2]]
    for number, pattern in _STEP_NAMES:
        if pattern.search(words):
            return number
    return None


# --- the plan as text ----------------------------------------------------------------------


def _one_message(parts: Sequence[str]) -> str:
    # Single line breaks only: the REST and web channels cut a text into separate bubbles at
    # every blank line, and the plan must arrive as one message.
    return "\n".join(parts)


def _bullets(items: Sequence[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def summary_text(plan: Mapping[str, Any], region_lines: Sequence[str]) -> str:
    """The whole plan in one phone-sized message: the six headings, each with its items.

    ``plan`` maps each step's field to its items (step 6: its choice); ``region_lines`` are the
    crisis lines of the user's region, shown first under step 5.
    """
    book = texts()
    parts = [book.text("summary.title")]
    for s in STEPS:
        heading = f"{s.number}. {book.text(f'steps.{s.number}')}"
        if s is SURROUNDINGS_STEP:
            choice = plan.get(s.field)
            body = (
                book.text(f"summary.surroundings_{choice}")
                if choice in SURROUNDINGS_CHOICES
                else book.text("summary.skipped")
            )
        else:
            items = items_of(plan.get(s.field))
            if s.number == 5:
                items = [*region_lines, *items]
            body = _bullets(items) if items else book.text("summary.skipped")
        parts.append(f"{heading}\n{body}")
    return _one_message(parts)


def crisis_text(plan: Mapping[str, Any] | None) -> str | None:
    """Steps 2 to 4 of the user's plan, for under the crisis lines; None when they hold nothing
    (then nothing is added)."""
    if not plan:
        return None
    book = texts()
    parts = []
    for number in CRISIS_STEPS:
        items = items_of(plan.get(step(number).field))
        if items:
            parts.append(f"{book.text(f'steps.{number}')}:\n{_bullets(items)}")
    if not parts:
        return None
    return _one_message([book.text("crisis.intro"), *parts])


def step_buttons(payload_of: Any) -> list[dict[str, str]]:
    """One button per step (``payload_of(number)`` gives its payload)."""
    book = texts()
    return [book.button(f"step_{s.number}", payload_of(s.number)) for s in STEPS]
