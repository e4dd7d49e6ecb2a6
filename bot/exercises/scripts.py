"""DEAR MAN boundary scripts without Rasa: reading answers and assembling the script.

The script must stay in the user's own words. We only tidy: capital letters, end punctuation,
an "I feel" before a bare feeling word, an "I'm asking you to" before a bare request verb. Very
long parts are kept whole and only shortened for display. Pure functions, tested directly;
actions/boundaries.py wires them to the form.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content import (
    DATA_DIR,
    ContentError,
    load_yaml,
    require_keys,
    require_list,
    require_mapping,
    require_text,
)
from bot.dialogue.texts import TextBook, TextSpec, plain, shorten, using

PHRASING_FILE = DATA_DIR / "boundaries" / "phrasing.yml"
TEXTS_FILE = DATA_DIR / "boundaries" / "texts.yml"

PARTS = ("describe", "express", "assert", "reinforce")
PRIORITIES = ("relationship", "self_respect")
# Parts the user can ask to change, and the form slot each one lives in.
EDITABLE = (*PARTS, "priority")
SLOT_OF_PART = {part: f"bs_{part}" for part in EDITABLE}
PART_OF_SLOT = {slot: part for part, slot in SLOT_OF_PART.items()}

_ASK_SLOTS = (*(SLOT_OF_PART[p] for p in EDITABLE), "bs_title")
TEXT_SPEC: TextSpec = {
    "part_names": plain(*EDITABLE),
    "ask": {**plain(*_ASK_SLOTS), "bs_title": frozenset({"suggestion"})},
    "buttons": {
        **plain(
            "skip_reinforce",
            "relationship",
            "self_respect",
            *(f"edit_{part}" for part in EDITABLE),
            "save",
            "practise",
            "list",
            "start",
            "menu",
        ),
        "use_suggestion": frozenset({"suggestion"}),
        "practise_titled": frozenset({"title"}),
    },
    "priority_payloads": plain(*PRIORITIES),
    "more_examples": plain(*(SLOT_OF_PART[p] for p in PARTS)),
    "hints": {
        **using({"example"}, "empty", "too_short", "question_back", "unsure"),
        "too_long": frozenset({"limit"}),
        "priority_unclear": frozenset(),
        "title_unclear": frozenset({"suggestion"}),
    },
    "why": plain(*_ASK_SLOTS),
    "script": plain("intro", "shortened_note", "give", "fast", "tips", "next"),
    "edit": {**plain("which_part", "no_script"), "redo": frozenset({"part"})},
    "save": {**using({"title"}, "saved", "updated"), "title_fallback": frozenset()},
    "list": {
        **plain("none", "header"),
        "item": frozenset({"title", "date", "text"}),
        "more": frozenset({"count"}),
    },
}


@dataclass(frozen=True)
class Phrasing:
    """Word lists and limits from phrasing.yml (see that file for what each one does)."""

    part_max_chars: int
    part_display_chars: int
    min_words: Mapping[str, int]
    title_max_chars: int
    title_suggestion_chars: int
    first_person: frozenset[str]
    feel_verbs: Mapping[str, str]
    intensifiers: frozenset[str]
    feeling_words: frozenset[str]
    request_prefix: str
    request_verbs: frozenset[str]
    question_starts: frozenset[str]
    question_subjects: frozenset[str]
    skip: frozenset[str]
    unsure: frozenset[str]
    question_back: tuple[str, ...]
    priority_words: Mapping[str, tuple[str, ...]]
    edit_words: Mapping[str, tuple[str, ...]]


def _word_list(tree: Mapping[str, Any], path: Path, key: str) -> tuple[str, ...]:
    items = require_list(tree.get(key), path, key)
    words = []
    for index, item in enumerate(items):
        # YAML reads a bare `no` or `yes` as a boolean: the file quotes them, but say so if not.
        if not isinstance(item, str):
            raise ContentError(path, f"{key}[{index}]", "expected text (quote yes/no/on/off)")
        words.append(_normalise(require_text(item, path, f"{key}[{index}]")))
    return tuple(words)


def _positive_int(value: Any, path: Path, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ContentError(path, key, "expected a whole number above 0")
    return value


def load_phrasing(path: Path | str = PHRASING_FILE) -> Phrasing:
    """Read and check phrasing.yml (errors name the file and the key)."""
    path = Path(path)
    tree = require_mapping(load_yaml(path), path, "")
    require_keys(tree, ("limits", "express", "assert", "answers", "priority", "edit_words"), path)
    limits = require_mapping(tree["limits"], path, "limits")
    express = require_mapping(tree["express"], path, "express")
    asserting = require_mapping(tree["assert"], path, "assert")
    answers = require_mapping(tree["answers"], path, "answers")
    priority = require_mapping(tree["priority"], path, "priority")
    edit_words = require_mapping(tree["edit_words"], path, "edit_words")
    min_words = require_mapping(limits.get("min_words"), path, "limits.min_words")
    require_keys(min_words, PARTS, path, "limits.min_words")
    require_keys(priority, PRIORITIES, path, "priority")
    require_keys(edit_words, EDITABLE, path, "edit_words")
    feel_verbs = require_mapping(express.get("feel_verbs"), path, "express.feel_verbs")
    sub = functools.partial(_prefixed, path)
    phrasing = Phrasing(
        part_max_chars=_positive_int(limits.get("part_max_chars"), path, "limits.part_max_chars"),
        part_display_chars=_positive_int(
            limits.get("part_display_chars"), path, "limits.part_display_chars"
        ),
        min_words={p: _positive_int(min_words[p], path, f"limits.min_words.{p}") for p in PARTS},
        title_max_chars=_positive_int(
            limits.get("title_max_chars"), path, "limits.title_max_chars"
        ),
        title_suggestion_chars=_positive_int(
            limits.get("title_suggestion_chars"), path, "limits.title_suggestion_chars"
        ),
        first_person=frozenset(sub(express, "express", "first_person")),
        feel_verbs={
            _normalise(word): require_text(prefix, path, f"express.feel_verbs.{word}")
            for word, prefix in feel_verbs.items()
        },
        intensifiers=frozenset(sub(express, "express", "intensifiers")),
        feeling_words=frozenset(sub(express, "express", "feeling_words")),
        request_prefix=require_text(asserting.get("request_prefix"), path, "assert.request_prefix"),
        request_verbs=frozenset(sub(asserting, "assert", "request_verbs")),
        question_starts=frozenset(sub(asserting, "assert", "question_starts")),
        question_subjects=frozenset(sub(asserting, "assert", "question_subjects")),
        skip=frozenset(sub(answers, "answers", "skip")),
        unsure=frozenset(sub(answers, "answers", "unsure")),
        question_back=sub(answers, "answers", "question_back"),
        priority_words={p: sub(priority, "priority", p) for p in PRIORITIES},
        edit_words={p: sub(edit_words, "edit_words", p) for p in EDITABLE},
    )
    if phrasing.part_display_chars > phrasing.part_max_chars:
        raise ContentError(path, "limits.part_display_chars", "must not exceed part_max_chars")
    return phrasing


def _prefixed(path: Path, tree: Mapping[str, Any], prefix: str, key: str) -> tuple[str, ...]:
    try:
        return _word_list(tree, path, key)
    except ContentError as error:
        raise ContentError(path, f"{prefix}.{error.key}", error.problem) from None


def load_texts(path: Path | str = TEXTS_FILE) -> TextBook:
    """Read and check the texts of the boundary-script exercise."""
    return TextBook.for_skill(path, TEXT_SPEC)


@functools.lru_cache(maxsize=1)
def phrasing() -> Phrasing:
    """The phrasing rules from the default file, read once per process."""
    return load_phrasing()


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The texts from the default file, read once per process."""
    return load_texts()


# --- small text tools ---------------------------------------------------------------------

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'\-/]*")
_QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}
_END_PUNCTUATION = ".!?…"
_CLOSERS = "\"'”’)»]"
_DANGLING = ",;:-–—"


def _normalise(text: str) -> str:
    """Lower case, curly apostrophes straightened, spaces collapsed (for matching only)."""
    return " ".join(text.translate(_APOSTROPHES).lower().split())


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(_normalise(text))


def _matches(text: str, phrases: tuple[str, ...] | frozenset[str]) -> int:
    """How many of ``phrases`` occur in ``text`` as whole words."""
    words = _words(text)
    count = 0
    for phrase in phrases:
        target = _words(phrase)
        size = len(target)
        if size and any(words[i : i + size] == target for i in range(len(words) - size + 1)):
            count += 1
    return count


def _is_symbol(char: str) -> bool:
    # Emoji and their joiners/modifiers: an answer may end with them instead of a full stop.
    return unicodedata.category(char) in ("So", "Sk", "Mn", "Cf") or char == "\ufe0f"


def has_words(text: str) -> bool:
    """True if the text has at least one letter or digit."""
    return any(ch.isalnum() for ch in text)


def has_emoji(text: str) -> bool:
    """True if the text has a pictograph-like symbol (emoji, dingbats)."""
    return any(unicodedata.category(ch) == "So" for ch in text)


def _strip_wrapping_quotes(text: str) -> str:
    # People often copy our examples with their quotes: “I feel hurt.” -> I feel hurt.
    while len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


_LONE_I = re.compile(r"(?<![\w.'’])i(?=(?:['’](?:m|ve|d|ll|s)\b)|[\s,.!?;:]|$)")


def tidy_sentence(text: str, *, question: bool = False) -> str:
    """Capital letter, a lone "i" as "I", and end punctuation; everything else as written."""
    text = _strip_wrapping_quotes(" ".join(text.split()))
    if not text:
        return ""
    text = _LONE_I.sub("I", text)
    for index, char in enumerate(text):
        if char.isalpha():
            if char.islower():
                text = text[:index] + char.upper() + text[index + 1 :]
            break
        if char.isdigit():
            break
    end = len(text)
    while end and text[end - 1] in _CLOSERS:
        end -= 1
    body, closers = text[:end], text[end:]
    if not body:
        return text
    if body[-1] in _END_PUNCTUATION or _is_symbol(body[-1]):
        return text
    if closers:
        # he said "no" -> He said "no". (the sentence ends after the quote or bracket)
        return text + ("?" if question else ".")
    body = body.rstrip(_DANGLING).rstrip()
    if not body:
        return text
    return body + ("?" if question else ".")


def is_question(text: str, rules: Phrasing) -> bool:
    """ "could you call first" reads as a question; "do not call" does not."""
    words = _words(text)
    return (
        len(words) >= 2
        and words[0] in rules.question_starts
        and words[1] in rules.question_subjects
    )


def _lower_first(text: str) -> str:
    # "Stop calling" -> "stop calling", but keep "I" and acronyms ("OK", "TV") as they are.
    first = text.split(" ", 1)[0]
    if first == "I" or (len(first) > 1 and first.isupper()):
        return text
    return text[:1].lower() + text[1:]


def express_sentence(text: str, rules: Phrasing) -> str:
    """The feeling as an I-statement when it is a bare feeling ("hurt" -> "I feel hurt.")."""
    text = _strip_wrapping_quotes(" ".join(text.split()))
    words = _words(text)
    if not words or any(word in rules.first_person for word in words):
        return tidy_sentence(text, question=is_question(text, rules))
    if words[0] in rules.feel_verbs:
        rest = text.split(" ", 1)[1] if " " in text else ""
        return tidy_sentence(f"{rules.feel_verbs[words[0]]} {rest}".strip())
    index = 0
    while index < len(words) - 1 and words[index] in rules.intensifiers:
        index += 1
    if words[index] in rules.feeling_words and not is_question(text, rules):
        return tidy_sentence(f"I feel {_lower_first(text)}")
    return tidy_sentence(text, question=is_question(text, rules))


def assert_sentence(text: str, rules: Phrasing) -> str:
    """The request as a sentence: "stop calling me" -> "I'm asking you to stop calling me."."""
    text = _strip_wrapping_quotes(" ".join(text.split()))
    words = _words(text)
    if words and words[0] in rules.request_verbs:
        return tidy_sentence(f"{rules.request_prefix} {_lower_first(text)}")
    return tidy_sentence(text, question=is_question(text, rules))


def part_sentence(part: str, text: str, rules: Phrasing) -> str:
    """One part of the script in its final wording."""
    if part == "express":
        return express_sentence(text, rules)
    if part == "assert":
        return assert_sentence(text, rules)
    return tidy_sentence(text, question=is_question(text, rules))


# --- assembling -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """An assembled script: ``text`` in full (for the journal), ``display`` for the chat."""

    sentences: Mapping[str, str]
    text: str
    display: str
    shortened: bool


def assemble(parts: Mapping[str, str | None], rules: Phrasing) -> Script:
    """Put the four parts together in DEAR order, one paragraph each; an empty part is left out.

    Reinforce may be empty (the user skipped it); the others are checked by the form first.
    """
    sentences: dict[str, str] = {}
    for part in PARTS:
        raw = parts.get(part) or ""
        if raw.strip():
            sentences[part] = part_sentence(part, raw, rules)
    shown = []
    shortened = False
    for sentence in sentences.values():
        cut = shorten(sentence, rules.part_display_chars)
        shortened = shortened or cut != sentence
        shown.append(cut)
    return Script(
        sentences=sentences,
        text="\n".join(sentences.values()),
        display="\n".join(shown),
        shortened=shortened,
    )


# --- reading answers ------------------------------------------------------------------------


def _bare(text: str) -> str:
    """Lower case with punctuation dropped (apostrophes kept), for whole-answer matching."""
    kept = "".join(ch if ch.isalnum() or ch in "'- /" else " " for ch in _normalise(text))
    return " ".join(kept.split())


def answer_problem(part: str, text: str | None, rules: Phrasing) -> str | None:
    """Why an answer to ``part`` needs a second try, or None when it can be used.

    Returns "skip" (reinforce only: the user leaves it out), "empty", "too_long", "unsure",
    "question_back" or "too_short".
    """
    text = (text or "").strip()
    if not text:
        return "empty"
    if len(text) > rules.part_max_chars:
        return "too_long"
    bare = _bare(text)
    if part == "reinforce" and bare in rules.skip:
        return "skip"
    if bare in rules.unsure or (not bare and "?" in text):
        return "unsure"
    if _is_question_back(text, bare, rules):
        return "question_back"
    if not has_words(text):
        # A feeling may be an emoji ("😢"); facts and requests need words.
        return None if part == "express" and has_emoji(text) else "empty"
    if len(_words(text)) < rules.min_words[part]:
        return "too_short"
    return None


def _is_question_back(text: str, bare: str, rules: Phrasing) -> bool:
    words = bare.split()
    for phrase in rules.question_back:
        target = phrase.split()
        if words == target:
            return True
        # "what do you mean by facts?" is a question back; "I don't understand why he
        # always cancels" is a description. Single words only count as the whole answer.
        if (
            len(target) >= 2
            and words[: len(target)] == target
            and (text.rstrip().endswith("?") or len(words) <= len(target) + 2)
        ):
            return True
    return False


def _best(text: str, options: Mapping[str, tuple[str, ...]]) -> str | None:
    scores = {name: _matches(text, words) for name, words in options.items()}
    best = max(scores.values(), default=0)
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def parse_priority(text: str | None, rules: Phrasing, payloads: Mapping[str, str]) -> str | None:
    """ "relationship" or "self_respect" from a button or typed words; None if unclear."""
    text = (text or "").strip()
    for priority, payload in payloads.items():
        if _normalise(text) == _normalise(payload):
            return priority
    return _best(text, rules.priority_words)


def which_part(text: str | None, rules: Phrasing) -> str | None:
    """The part the user wants to change ("change the feeling part" -> "express")."""
    return _best(text or "", rules.edit_words)


def suggest_title(describe: str | None, rules: Phrasing, fallback: str) -> str:
    """A short title taken from the situation the user described."""
    text = _strip_wrapping_quotes(" ".join((describe or "").split())).rstrip(_END_PUNCTUATION)
    if not has_words(text):
        return fallback
    return shorten(tidy_sentence(text).rstrip(_END_PUNCTUATION), rules.title_suggestion_chars)


def clean_title(text: str | None, rules: Phrasing) -> str | None:
    """The title as stored (spaces collapsed, at most ``title_max_chars``), None if unusable."""
    text = _strip_wrapping_quotes(" ".join((text or "").split()))
    if not text or not (has_words(text) or has_emoji(text)):
        return None
    return shorten(text, rules.title_max_chars)


def wants_suggestion(text: str | None, rules: Phrasing) -> bool:
    """ "you choose", "idk", "skip": the user is happy with the suggested title."""
    bare = _bare(text or "")
    return bare in rules.unsure or bare in rules.skip or bare in {"you choose", "you pick"}


# --- the role-play hook ---------------------------------------------------------------------

# The journal needs every part of a script; a skipped Reinforce is stored as this marker and
# never shown (the assembled text leaves it out).
SKIPPED_PART = "(skipped)"


def roleplay_script(
    *, title: str, describe: str, express: str, assertion: str, reinforce: str | None
) -> dict[str, str]:
    """A saved script (journal columns) as the mapping ``bot.roleplay.start_script`` takes.

    Parts come tidied as in the script the user saw; a skipped Reinforce is "" (the role-play
    needs no Reinforce to push back on the ask).
    """
    rules = phrasing()
    kept = "" if reinforce in (None, SKIPPED_PART) else reinforce
    return {
        "title": title,
        "describe": part_sentence("describe", describe, rules),
        "express": part_sentence("express", express, rules),
        "assert_": part_sentence("assert", assertion, rules),
        "reinforce": part_sentence("reinforce", kept, rules) if kept.strip() else "",
    }
