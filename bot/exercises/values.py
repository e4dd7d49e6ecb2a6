"""The ACT values exercise without the dialogue: value words, life areas, typed-value matching,
gaps between importance and how a value was lived, and the committed-action check.

Values are chosen qualities of ongoing action, not goals (Hayes; Harris, "ACT Made Simple").
A picked value is kept in the conversation as a catalogue key ("self_respect") or, when the
user's own words match nothing in the catalogue, as those words ("time outdoors").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.content import (
    DATA_DIR,
    ContentError,
    load_yaml,
    require_entries,
    require_mapping,
    require_text,
    require_texts,
)
from bot.dialogue.texts import BUTTON_TITLE_MAX, TextBook, plain
from bot.exercises.phrases import PhraseIndex, normalise

if TYPE_CHECKING:
    from spacy.language import Language

VALUES_FILE = DATA_DIR / "values" / "values.yml"
VALUES_TEXTS_FILE = DATA_DIR / "values" / "texts.yml"

PAGE_SIZE = 8
TOP_COUNT = 3
OWN_WORD_MAX_WORDS = 4
OWN_WORD_MAX_CHARS = 40
# A committed action is one small step: three words make it concrete enough, and a paragraph
# is more than one step (the journal would take 1,000 characters; a step should fit a line).
ACTION_MIN_WORDS = 3
ACTION_MAX_CHARS = 300
# A sentence that names no value gets up to three suggestions, if its meaning is near enough
# (cosine of sentence vectors with "<label>: <meaning>"; "making stuff with my hands, pottery"
# ~ creativity 0.46, "i like seeing new places" ~ adventure 0.46; "the weather is nice today"
# and "i don't know what to say here" reach 0.28 at best, "asdf" 0.16).
SUGGEST_MOST = 3
SUGGEST_MIN = 0.34
SUGGEST_BAND = 0.08
# Gap = importance - consistency. From 3 up it is named as "some distance"; 1-2 as a nudge.
LARGE_GAP = 3

_NONE: frozenset[str] = frozenset()
_VALUE = frozenset({"value"})
_VALUE_CAP = frozenset({"value", "value_cap"})
VALUES_TEXT_SPEC = {
    **plain("intro", "ask_area", "hint_area"),
    "hint_area_ambiguous": frozenset({"areas"}),
    "page_intro": frozenset({"page", "pages"}),
    "page_line": frozenset({"label", "meaning"}),
    "page_picked": frozenset({"picked"}),
    "page_short": frozenset({"picked"}),
    **plain("page_all_picked", "button_more", "button_done"),
    "added": frozenset({"values"}),
    "added_own": frozenset({"word"}),
    "added_sense": frozenset({"values", "sense"}),
    "hint_sentence": frozenset({"sense"}),
    "already_picked": frozenset({"values"}),
    **plain("hint_pick_first", "hint_values", "hint_own_too_long"),
    "ask_top": frozenset({"count", "picked"}),
    "ask_top_progress": frozenset({"chosen", "left"}),
    "hint_top": frozenset({"picked"}),
    "top_from_picks": frozenset({"values"}),
    "ask_importance_known": frozenset({"value", "index", "total", "meaning"}),
    "ask_importance_own": frozenset({"value", "index", "total"}),
    "ask_consistency": _VALUE,
    "gap_large": _VALUE_CAP,
    "gap_some": _VALUE_CAP,
    "gap_none": _VALUE_CAP,
    "ask_action": _VALUE,
    "ask_action_single": _VALUE,
    "ask_action_no_gap": _VALUE,
    "hint_action_short": frozenset({"example"}),
    **plain("hint_action_long", "example_action_generic"),
    "summary_header": frozenset({"area"}),
    "summary_line": frozenset({"value", "importance", "consistency"}),
    "summary_action": frozenset({"value", "action"}),
    **plain("summary_saved", "summary_closing", "show_none", "show_header"),
    "show_area": frozenset({"area"}),
    "show_line_first": frozenset({"value", "importance", "consistency"}),
    "show_line_change": frozenset(
        {"value", "importance", "consistency", "previous_importance", "previous_consistency"}
    ),
    "show_actions": _NONE,
    "show_action_line": frozenset({"text"}),
    "show_action_line_value": frozenset({"text", "value"}),
    **plain("show_closing", "button_start", "button_again"),
}


@dataclass(frozen=True)
class ValueWord:
    """One value of the catalogue, with its meaning in a line and the words that find it."""

    key: str
    label: str
    meaning: str
    forms: tuple[str, ...] = ()
    example: str | None = None


@dataclass(frozen=True)
class LifeArea:
    """A part of life the exercise can look at (or "all")."""

    key: str
    label: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValuesContent:
    """Everything the values exercise reads from ``data/values``."""

    areas: tuple[LifeArea, ...]
    values: tuple[ValueWord, ...]
    more_words: frozenset[str]
    done_words: frozenset[str]
    more_tokens: frozenset[str]
    done_tokens: frozenset[str]
    not_values: frozenset[str]
    filler_prefixes: tuple[str, ...]
    filler_suffixes: tuple[str, ...]
    sense_starts: frozenset[str]
    texts: TextBook
    _by_key: dict[str, ValueWord] = field(default_factory=dict, repr=False, compare=False)
    _areas_by_key: dict[str, LifeArea] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_key.update({value.key: value for value in self.values})
        self._areas_by_key.update({area.key: area for area in self.areas})

    def value(self, key: str) -> ValueWord | None:
        return self._by_key.get(key)

    def area(self, key: str) -> LifeArea | None:
        return self._areas_by_key.get(key)

    def is_known(self, item: str) -> bool:
        """True for a catalogue key, False for the user's own words."""
        return item in self._by_key

    def name(self, item: str) -> str:
        """How a picked value reads inside a sentence: "self-respect", "time outdoors"."""
        value = self._by_key.get(item)
        return value.label.lower() if value else item

    def label(self, item: str) -> str:
        """How a picked value reads on a button or in the journal: "Self-respect"."""
        value = self._by_key.get(item)
        return value.label if value else item

    def page_count(self) -> int:
        return -(-len(self.values) // PAGE_SIZE)

    def page(self, index: int) -> tuple[ValueWord, ...]:
        """The values on page ``index`` (wrapping round after the last page)."""
        start = (index % self.page_count()) * PAGE_SIZE
        return self.values[start : start + PAGE_SIZE]


def _key(raw: Any, path: Path, key: str) -> str:
    text = require_text(raw, path, key)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", text):
        raise ContentError(path, key, "must be lower-case letters, digits and underscores")
    return text


def _load_areas(raw: Any, path: Path) -> tuple[LifeArea, ...]:
    areas = []
    for where, entry in require_entries(raw, path, "areas"):
        areas.append(
            LifeArea(
                key=_key(entry.get("key"), path, f"{where}.key"),
                label=require_text(
                    entry.get("label"), path, f"{where}.label", max_len=BUTTON_TITLE_MAX
                ),
                words=require_texts(entry.get("words"), path, f"{where}.words"),
            )
        )
    return tuple(areas)


def _load_values(raw: Any, path: Path) -> tuple[ValueWord, ...]:
    values = []
    for where, entry in require_entries(raw, path, "values", min_len=TOP_COUNT):
        example = entry.get("example")
        values.append(
            ValueWord(
                key=_key(entry.get("key"), path, f"{where}.key"),
                label=require_text(
                    entry.get("label"), path, f"{where}.label", max_len=BUTTON_TITLE_MAX
                ),
                meaning=require_text(entry.get("meaning"), path, f"{where}.meaning", max_len=80),
                forms=require_texts(entry.get("forms"), path, f"{where}.forms")
                if entry.get("forms") is not None
                else (),
                example=require_text(example, path, f"{where}.example", max_len=160)
                if example is not None
                else None,
            )
        )
    return tuple(values)


def _unique(items: Iterable[Any], path: Path, key: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            raise ContentError(path, key, f"key '{item.key}' appears twice")
        seen.add(item.key)


def _word_set(raw: Any, key: str, path: Path) -> frozenset[str]:
    return frozenset(normalise(word) for word in require_texts(raw.get(key), path, key))


def _longest_first(words: frozenset[str]) -> tuple[str, ...]:
    # Longest first, so "i want to be" is stripped before "i want".
    return tuple(sorted(words, key=len, reverse=True))


def load_values_content(
    values_path: Path | str = VALUES_FILE, texts_path: Path | str = VALUES_TEXTS_FILE
) -> ValuesContent:
    """Read and validate the value words, life areas and texts (errors name file and key)."""
    values_path, texts_path = Path(values_path), Path(texts_path)
    raw = require_mapping(load_yaml(values_path), values_path, "")
    areas = _load_areas(raw.get("areas"), values_path)
    values = _load_values(raw.get("values"), values_path)
    _unique(areas, values_path, "areas")
    _unique(values, values_path, "values")
    if not any(area.key == "all" for area in areas):
        raise ContentError(values_path, "areas", "needs an area with key 'all'")
    return ValuesContent(
        areas=areas,
        values=values,
        more_words=_word_set(raw, "more_words", values_path),
        done_words=_word_set(raw, "done_words", values_path),
        more_tokens=_word_set(raw, "more_tokens", values_path),
        done_tokens=_word_set(raw, "done_tokens", values_path),
        not_values=_word_set(raw, "not_values", values_path),
        filler_prefixes=_longest_first(_word_set(raw, "filler_prefixes", values_path)),
        filler_suffixes=_longest_first(_word_set(raw, "filler_suffixes", values_path)),
        sense_starts=_word_set(raw, "sense_starts", values_path),
        texts=TextBook.for_skill(texts_path, VALUES_TEXT_SPEC, ratings=True),
    )


@functools.lru_cache(maxsize=1)
def values_content() -> ValuesContent:
    """The repository's values content, loaded once per process."""
    return load_values_content()


# --- reading what the user typed -----------------------------------------------------------

# Typed lists: "honesty, kindness and courage", one per line, "honesty / fun"; a sentence is
# cut at its punctuation and at "but" too ("kindness, but towards me for once").
_ITEM_SPLIT = re.compile(r"[,;\n/+&.!?]|\band\b|\bor\b|\bplus\b|\bbut\b", re.IGNORECASE)
_OWN_WORD_OK = re.compile(r"[^\W\d_][\w' -]*", re.UNICODE)
_NOT_IN_A_WORD = re.compile(r"[^\w' -]+", re.UNICODE)


@dataclass(frozen=True)
class TypedValues:
    """What a typed answer at the picking step holds.

    ``known`` are catalogue keys, ``own`` the user's own value words, ``too_long`` the pieces
    that say something about a value rather than name one (longer than a value, or starting
    like "towards me for once"): what the user meant, to reflect back, never kept as a value.
    ``command`` is "more" or "done" when the user asked for the next page or said they have
    picked enough.
    """

    known: tuple[str, ...] = ()
    own: tuple[str, ...] = ()
    too_long: tuple[str, ...] = ()
    command: str | None = None

    @property
    def picks(self) -> tuple[str, ...]:
        return self.known + self.own


class ValueMatcher:
    """Matches typed words to the catalogue (by spaCy lemma) and to life areas."""

    def __init__(self, content: ValuesContent, nlp: Language) -> None:
        self.content = content
        self._values = PhraseIndex(
            nlp,
            (
                (value.key, phrase)
                for value in content.values
                for phrase in (value.label, value.key.replace("_", " "), *value.forms)
            ),
        )
        self._areas = PhraseIndex(
            nlp,
            ((area.key, phrase) for area in content.areas for phrase in (area.label, *area.words)),
        )
        self._meanings: np.ndarray | None = None

    def command(self, text: str) -> str | None:
        """ "more" or "done" when the whole answer asks for that."""
        said = normalise(text).strip(" .!?")
        if said in self.content.more_words:
            return "more"
        if said in self.content.done_words:
            return "done"
        return None

    def _own_word(self, piece: str) -> str | None:
        word = " ".join(_NOT_IN_A_WORD.sub(" ", normalise(piece)).split()).strip(" '-")
        changed = True
        while changed:
            changed = False
            for prefix in self.content.filler_prefixes:
                if word.startswith(prefix + " ") or word == prefix:
                    word = word[len(prefix) :].strip(" ,")
                    changed = True
            for suffix in self.content.filler_suffixes:
                if word.endswith(" " + suffix):
                    word = word[: -len(suffix) - 1].strip(" ,")
                    changed = True
        if not word or word in self.content.not_values or not _OWN_WORD_OK.fullmatch(word):
            return None
        return word

    def _is_sense(self, word: str) -> bool:
        """A piece that says how a value is meant ("towards me for once"), not a value."""
        return (
            len(word.split()) > OWN_WORD_MAX_WORDS
            or len(word) > OWN_WORD_MAX_CHARS
            or word.split()[0] in self.content.sense_starts
        )

    def read(self, text: str) -> TypedValues:
        """Split a typed answer into catalogue values, own words, what was meant, and a
        more/done request."""
        command = self.command(text)
        if command:
            return TypedValues(command=command)
        known: list[str] = []
        own: list[str] = []
        too_long: list[str] = []
        for piece in _ITEM_SPLIT.split(text):
            piece = piece.strip()
            if not piece:
                continue
            piece_command = self.command(piece)
            if piece_command:
                command = command or piece_command
                continue
            found = self._values.keys_in(piece)
            if found:
                known.extend(key for key in found if key not in known)
                continue
            word = self._own_word(piece)
            if word is None:
                continue
            tokens = set(word.split())
            if tokens & self.content.done_tokens or tokens & self.content.more_tokens:
                command = command or ("done" if tokens & self.content.done_tokens else "more")
                continue
            if self._is_sense(word):
                too_long.append(word)
            elif word not in own:
                own.append(word)
        return TypedValues(tuple(known), tuple(own), tuple(too_long), command)

    def read_among(self, text: str, picked: Sequence[str]) -> tuple[str, ...]:
        """The picked values named in ``text`` (for choosing the top three), in text order."""
        reading = self.read(text)
        wanted = [item for item in reading.known if item in picked]
        own_picked = [item for item in picked if not self.content.is_known(item)]
        # An own word may come back a little different ("outdoors" for "time outdoors").
        for word in reading.own + reading.too_long:
            for item in own_picked:
                if (word in item or item in word) and item not in wanted:
                    wanted.append(item)
        return tuple(wanted)

    def suggest(self, text: str, most: int = SUGGEST_MOST) -> tuple[str, ...]:
        """Catalogue values whose meaning is closest to a sentence that names none of them.

        "being there for people" names no value word; the shared sentence encoder finds that it
        is nearest to connection. Only values within ``SUGGEST_BAND`` of the best and above
        ``SUGGEST_MIN`` (cosine) are offered, so small talk and gibberish get no suggestions.
        """
        from bot.encoder import embed

        vector = np.asarray(embed(text), dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if not norm:
            return ()
        scores = self._meaning_vectors() @ (vector / norm)
        best = float(scores.max())
        if best < SUGGEST_MIN:
            return ()
        order = np.argsort(-scores)[:most]
        return tuple(self.content.values[i].key for i in order if scores[i] >= best - SUGGEST_BAND)

    def _meaning_vectors(self) -> np.ndarray:
        if self._meanings is None:
            from bot.encoder import get_encoder

            vectors = get_encoder().encode(
                [f"{value.label}: {value.meaning}" for value in self.content.values]
            )
            self._meanings = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return self._meanings

    def areas(self, text: str) -> list[str]:
        """The life areas named in ``text`` (several when the answer is ambiguous)."""
        found = self._areas.keys_in(text)
        # "my dating life" names one area; the "life" in it does not also mean "all areas".
        if len(found) > 1 and "all" in found:
            found.remove("all")
        return found


@functools.lru_cache(maxsize=1)
def value_matcher() -> ValueMatcher:
    """The matcher over the repository's content and the shared spaCy pipeline (built once)."""
    from bot.spacy_pipeline import load

    return ValueMatcher(values_content(), load())


# --- ratings, gaps and the committed action ---------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """How much a value matters and how much room it had in the last two weeks (0-10 each)."""

    value: str
    importance: int
    consistency: int

    @property
    def gap(self) -> int:
        return self.importance - self.consistency

    def as_slot(self) -> dict[str, Any]:
        return {"value": self.value, "importance": self.importance, "consistency": self.consistency}

    @classmethod
    def from_slot(cls, raw: Any) -> Rating | None:
        """A rating kept in the conversation, or None if it is not one (a stale slot)."""
        if not isinstance(raw, dict):
            return None
        value, importance, consistency = (
            raw.get("value"),
            raw.get("importance"),
            raw.get("consistency"),
        )
        if not isinstance(value, str) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (importance, consistency)
        ):
            return None
        return cls(value, importance, consistency)


def ratings_from_slot(raw: Any) -> list[Rating]:
    """The ratings list slot as Rating objects (anything malformed is left out)."""
    if not isinstance(raw, list):
        return []
    return [rating for rating in map(Rating.from_slot, raw) if rating is not None]


def gap_band(gap: int) -> str:
    """Which kind words fit a gap: "large", "some" or "none"."""
    if gap >= LARGE_GAP:
        return "large"
    if gap >= 1:
        return "some"
    return "none"


def focus_rating(ratings: Sequence[Rating]) -> Rating:
    """The value to act on: the biggest gap, then the one that matters most, then the first."""
    if not ratings:
        raise ValueError("focus_rating needs at least one rating")
    return max(enumerate(ratings), key=lambda pair: (pair[1].gap, pair[1].importance, -pair[0]))[1]


def check_committed_action(text: str) -> str:
    """ "ok", "short" (fewer than three words: worth one friendly re-ask) or "long"."""
    cleaned = " ".join(text.split())
    if len(cleaned) > ACTION_MAX_CHARS:
        return "long"
    if len(re.findall(r"[^\W_]+", cleaned)) < ACTION_MIN_WORDS:
        return "short"
    return "ok"


def texts() -> TextBook:
    """The values exercise's words (``data/values/texts.yml``), read once with its content."""
    return values_content().texts
