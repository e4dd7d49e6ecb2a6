""" "Whose voice is this?" without the dialogue: where a choice came from, how it sits with a
value, and the short reflection built from the answers.

The check is about noticing, never about shaming media use: the reflection names the source
kindly and hands the choice back to the user.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from bot.exercises.phrases import PhraseIndex

if TYPE_CHECKING:
    from spacy.language import Language

VOICE_CHECK_FILE = DATA_DIR / "voice_check" / "voice_check.yml"
SOURCE_KEYS = ("myself", "close", "creator", "ad", "unsure")
EFFECT_KEYS = ("serves", "crowds", "both", "unsure")
# What the user named is quoted back in questions: keep the quote short enough for a phone.
TOPIC_QUOTE_LIMIT = 80
TOPIC_MAX_CHARS = 300
_NEGATIONS = frozenset({"not", "never", "no"})

_NONE: frozenset[str] = frozenset()
_TOPIC = frozenset({"topic"})
_VALUE = frozenset({"value"})
VOICE_TEXT_SPEC = {
    **plain("intro", "ask_topic", "hint_topic", "hint_topic_long"),
    "ask_source": _TOPIC,
    "hint_source": _NONE,
    "ask_without": {key: _TOPIC for key in SOURCE_KEYS},
    **plain("hint_without", "ask_value_saved", "ask_value_typed", "hint_value"),
    "ask_effect": frozenset({"topic", "value"}),
    **plain("hint_effect", "reflection_opening"),
    "reflection_source": {key: _NONE for key in SOURCE_KEYS},
    "reflection_without": frozenset({"without"}),
    "reflection_effect": {key: _VALUE for key in EFFECT_KEYS},
    **plain("reflection_closing", "offer", "button_values", "button_wise_mind"),
}


@dataclass(frozen=True)
class Choice:
    """A button answer (a source or an effect) and the words that find it when typed."""

    key: str
    label: str
    words: tuple[str, ...]
    weak_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoiceCheckContent:
    """Everything the voice check reads from ``data/voice_check/``."""

    sources: tuple[Choice, ...]
    effects: tuple[Choice, ...]
    texts: TextBook


def _words(raw: Any, path: Path, key: str, *, required: bool = True) -> tuple[str, ...]:
    if raw is None and not required:
        return ()
    return require_texts(raw, path, key)


def _choices(raw: Any, path: Path, key: str, expected: tuple[str, ...]) -> tuple[Choice, ...]:
    choices = []
    for where, entry in require_entries(raw, path, key):
        choices.append(
            Choice(
                key=require_text(entry.get("key"), path, f"{where}.key"),
                label=require_text(
                    entry.get("label"), path, f"{where}.label", max_len=BUTTON_TITLE_MAX
                ),
                words=_words(entry.get("words"), path, f"{where}.words"),
                weak_words=_words(
                    entry.get("weak_words"), path, f"{where}.weak_words", required=False
                ),
            )
        )
    keys = tuple(choice.key for choice in choices)
    if sorted(keys) != sorted(expected):
        raise ContentError(path, key, f"needs exactly the keys {', '.join(expected)}")
    return tuple(choices)


def load_voice_check_content(path: Path | str = VOICE_CHECK_FILE) -> VoiceCheckContent:
    """Read and validate the voice check's content (errors name the file and key)."""
    path = Path(path)
    raw = require_mapping(load_yaml(path), path, "")
    return VoiceCheckContent(
        sources=_choices(raw.get("sources"), path, "sources", SOURCE_KEYS),
        effects=_choices(raw.get("effects"), path, "effects", EFFECT_KEYS),
        texts=TextBook.for_skill(Path(path).with_name("texts.yml"), VOICE_TEXT_SPEC),
    )


@functools.lru_cache(maxsize=1)
def voice_check_content() -> VoiceCheckContent:
    """The repository's voice-check content, loaded once per process."""
    return load_voice_check_content()


class ChoiceReader:
    """Reads a typed answer as one of a few choices, by the lemmas of their words."""

    def __init__(self, choices: tuple[Choice, ...], nlp: Language) -> None:
        self._keys = tuple(choice.key for choice in choices)
        self._strong = PhraseIndex(
            nlp,
            ((c.key, phrase) for c in choices for phrase in (c.key, c.label, *c.words)),
        )
        self._weak = PhraseIndex(nlp, ((c.key, w) for c in choices for w in c.weak_words))

    def read(self, text: str) -> str | None:
        """The choice ``text`` points to, or None when it points nowhere or several ways."""
        if text.strip() in self._keys:  # a button's payload
            return text.strip()
        seq = self._strong.lemmas(text)
        found = self._strong.find_in(seq)
        # "his voice, not mine" must not read as "myself": weak words only count unnegated.
        if not found and not _NEGATIONS.intersection(seq):
            found = self._weak.find_in(seq)
        counts: dict[str, int] = {}
        for item in found:
            counts[item.key] = counts.get(item.key, 0) + 1
        if not counts:
            return None
        best = max(counts.values())
        leaders = [key for key, count in counts.items() if count == best]
        return leaders[0] if len(leaders) == 1 else None


@functools.lru_cache(maxsize=1)
def source_reader() -> ChoiceReader:
    from bot.spacy_pipeline import load

    return ChoiceReader(voice_check_content().sources, load())


@functools.lru_cache(maxsize=1)
def effect_reader() -> ChoiceReader:
    from bot.spacy_pipeline import load

    return ChoiceReader(voice_check_content().effects, load())


def quote(text: str, limit: int = TOPIC_QUOTE_LIMIT) -> str:
    """User words to repeat back inside a sentence: one line, trimmed, shortened if long."""
    flat = " ".join(text.split()).strip(" .!?")
    if len(flat) <= limit:
        return flat
    return flat[: limit - 1].rstrip() + "…"


def reflection_text(
    content: VoiceCheckContent, *, source: str, without: str, value: str, effect: str
) -> str:
    """The closing reflection, built only from the user's own answers."""
    texts = content.texts
    lines = [
        texts.text("reflection_opening"),
        texts.text(f"reflection_source.{source}"),
        texts.text("reflection_without", without=quote(without, 160)),
        texts.text(f"reflection_effect.{effect}", value=value),
        texts.text("reflection_closing"),
    ]
    return "\n\n".join(lines)


def texts() -> TextBook:
    """The voice check's words (``data/voice_check/texts.yml``), read once with its content."""
    return voice_check_content().texts
