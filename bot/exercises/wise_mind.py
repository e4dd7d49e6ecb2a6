"""The wise-mind practice without Rasa: content, reading answers, choosing a practice.

Pure functions so they can be tested directly; actions/wise_mind.py wires them to the form.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import (
    DATA_DIR,
    ContentError,
    load_yaml,
    require_entries,
    require_keys,
    require_list,
    require_mapping,
    require_text,
    require_texts,
)
from bot.dialogue.texts import BUTTON_TITLE_MAX, TextBook, TextSpec, plain, using

PRACTICES_FILE = DATA_DIR / "wise_mind" / "practices.yml"
TEXTS_FILE = DATA_DIR / "wise_mind" / "texts.yml"

NAME_MAX = 80  # the journal keeps practice ids up to this length
STEP_MAX = 400  # one step must fit a phone screen

# The form's questions that have an ask.<slot> and a why.<slot> text (steps have their own).
ASKED_SLOTS = ("wm_distress_before", "wm_intro", "wm_practice", "wm_note", "wm_distress_after")
# The placeholders each text may use (the kit adds its own hints): see bot.dialogue.texts.
TEXT_SPEC: TextSpec = {
    "ask": {**plain(*ASKED_SLOTS), "wm_practice_after_last": frozenset({"last"})},
    "buttons": plain(
        "more",
        "skip_intro",
        "surprise",
        "next",
        "finish",
        "skip_note",
        "again",
        "boundary",
        "menu",
        "crisis_lines",
    ),
    "explanation": frozenset(),
    "hints": {
        **plain("intro_unclear", "practice_unclear", "take_your_time"),
        "note_too_long": frozenset({"limit"}),
    },
    "picked": using({"title", "intro"}, "chosen", "surprise"),
    "why": plain(*ASKED_SLOTS),
    "summary": {
        "lower": frozenset({"before", "after"}),
        "same": frozenset({"after"}),
        "higher": frozenset({"before", "after"}),
        **plain("very_high", "next"),
        "saved": frozenset({"date"}),
    },
}


@dataclass(frozen=True)
class Practice:
    """One guided practice: said one step at a time."""

    id: str
    title: str
    keywords: tuple[str, ...]
    intro: str
    steps: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class PracticeBook:
    """All practices, plus the words that steer the choice and the pacing."""

    practices: tuple[Practice, ...]
    surprise_words: tuple[str, ...]
    repeat_words: tuple[str, ...]

    def get(self, practice_id: str | None) -> Practice | None:
        return next((p for p in self.practices if p.id == practice_id), None)


def _words(value: object, path: Path, key: str) -> tuple[str, ...]:
    return tuple(word.lower() for word in require_texts(value, path, key))


def load_practices(path: Path | str = PRACTICES_FILE) -> PracticeBook:
    """Read and check the practices file (errors name the file and the key)."""
    path = Path(path)
    tree = require_mapping(load_yaml(path), path, "")
    require_keys(tree, ("practices", "surprise_words", "repeat_words"), path)
    practices = []
    seen: set[str] = set()
    for key, entry in require_entries(tree["practices"], path, "practices", min_len=3):
        require_keys(entry, ("id", "title", "keywords", "intro", "steps", "why"), path, key)
        practice_id = require_text(entry["id"], path, f"{key}.id", max_len=NAME_MAX)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", practice_id):
            raise ContentError(path, f"{key}.id", "use lower-case letters, digits and _")
        if practice_id in seen:
            raise ContentError(path, f"{key}.id", f"'{practice_id}' is used twice")
        seen.add(practice_id)
        steps = require_list(entry["steps"], path, f"{key}.steps", min_len=3)
        practices.append(
            Practice(
                id=practice_id,
                title=require_text(entry["title"], path, f"{key}.title", max_len=BUTTON_TITLE_MAX),
                keywords=_words(entry["keywords"], path, f"{key}.keywords"),
                intro=require_text(entry["intro"], path, f"{key}.intro", max_len=STEP_MAX),
                steps=tuple(
                    require_text(step, path, f"{key}.steps[{n}]", max_len=STEP_MAX)
                    for n, step in enumerate(steps)
                ),
                why=require_text(entry["why"], path, f"{key}.why", max_len=STEP_MAX),
            )
        )
    return PracticeBook(
        practices=tuple(practices),
        surprise_words=_words(tree["surprise_words"], path, "surprise_words"),
        repeat_words=_words(tree["repeat_words"], path, "repeat_words"),
    )


def load_texts(path: Path | str = TEXTS_FILE) -> TextBook:
    """Read and check the texts said around the practices."""
    return TextBook.for_skill(path, TEXT_SPEC, ratings=True)


@functools.lru_cache(maxsize=1)
def practices() -> PracticeBook:
    """The practices from the default file, read once per process."""
    return load_practices()


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The texts from the default file, read once per process."""
    return load_texts()


# --- reading answers ---------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def _has_phrase(tokens: list[str], phrase: str) -> bool:
    words = _tokens(phrase)
    if not words:
        return False
    size = len(words)
    return any(tokens[i : i + size] == words for i in range(len(tokens) - size + 1))


def _keyword_hits(tokens: list[str], keyword: str) -> bool:
    words = _tokens(keyword)
    if len(words) == 1:
        # "breaths" should count for "breath": a prefix match on single words.
        return any(token.startswith(words[0]) for token in tokens)
    return _has_phrase(tokens, keyword)


SURPRISE = "surprise"


def choose_practice(text: str | None, book: PracticeBook) -> str | None:
    """The practice id the user asked for, ``SURPRISE`` for "you pick", or None if unclear."""
    if not text:
        return None
    normalised = " ".join(text.strip().lower().split())
    for practice in book.practices:
        if normalised == practice.title.lower() or normalised == practice.id:
            return practice.id
    tokens = _tokens(normalised)
    if any(_has_phrase(tokens, word) for word in book.surprise_words):
        return SURPRISE
    scores = {
        practice.id: sum(_keyword_hits(tokens, word) for word in practice.keywords)
        for practice in book.practices
    }
    best = max(scores.values())
    winners = [practice_id for practice_id, score in scores.items() if score == best]
    if best == 0 or len(winners) > 1:
        return None
    return winners[0]


def offered_practices(book: PracticeBook, last_id: str | None) -> list[Practice]:
    """The practices to offer as buttons: all but the one done last time."""
    return [practice for practice in book.practices if practice.id != last_id]


def pick_surprise(
    book: PracticeBook, last_id: str | None, rng: random.Random | None = None
) -> Practice:
    """A random practice, never the one done last time (people notice repeats)."""
    choices = offered_practices(book, last_id) or list(book.practices)
    return (rng or random).choice(choices)


# A one-word ask ("again", "wait") is a request only in a short message: "whether to lend my
# brother money again", typed at a step, is the user's own thought, not "say that again".
REPEAT_WORD_MAX_TOKENS = 3


def wants_repeat(text: str | None, book: PracticeBook) -> bool:
    """True when the user asks for the same step again ("wait", "again", "say that again")."""
    tokens = _tokens(text or "")
    return any(
        _has_phrase(tokens, phrase)
        and (len(_tokens(phrase)) > 1 or len(tokens) <= REPEAT_WORD_MAX_TOKENS)
        for phrase in book.repeat_words
    )


_YES = {"yes", "yeah", "yep", "sure", "ok", "okay", "please", "more", "explain", "tell"}
_NO = {"no", "nope", "nah", "skip", "straight", "practice", "practise", "begin", "start", "go"}


def intro_choice(text: str | None, intent: str | None) -> str | None:
    """ "more" (explain wise mind first), "skip" (go to the practice), or None if unclear."""
    if intent == "affirm":
        return "more"
    if intent == "deny":
        return "skip"
    tokens = set(_tokens(text or ""))
    more, skip = bool(tokens & _YES), bool(tokens & _NO)
    if more and not skip:
        return "more"
    if skip and not more:
        return "skip"
    if "skip" in tokens:  # "skip, tell me later": an explicit skip wins
        return "skip"
    return None


_NOTE_SKIPS = {
    "skip",
    "no",
    "nope",
    "nah",
    "nothing",
    "pass",
    "none",
    "no thanks",
    "not really",
    "nothing came",
    "nothing really",
    "n/a",
    # The step buttons' words, typed once more by someone still tapping through the practice.
    "next",
    "finish",
    "finished",
    "done",
    "continue",
}


def is_note_skip(text: str | None, intent: str | None) -> bool:
    """True when the user skips the optional note (the Skip button, "no", "nothing")."""
    if intent == "deny":
        return True
    cleaned = " ".join(_tokens(text or "")) if text and text.strip() else ""
    return not cleaned or cleaned in _NOTE_SKIPS or cleaned.replace("'", "") in _NOTE_SKIPS


def distress_summary_key(before: int, after: int) -> str:
    """Which summary to give: the feeling went down, stayed, or went up."""
    if after < before:
        return "summary.lower"
    if after == before:
        return "summary.same"
    return "summary.higher"
