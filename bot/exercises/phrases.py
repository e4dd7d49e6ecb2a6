"""Finding known words and phrases in typed text by their spaCy lemmas.

"being honest", "kinder" and "friends" should find honesty, kindness and friendship without a
list of every inflection: both the content's phrases and the user's text go through the same
lookup lemmatizer (``bot.spacy_pipeline``), and phrases are matched as lemma sequences, longest
first, so "self care" wins over "care".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

# Curly quotes are common on phones; the tokenizer only splits contractions with a straight one.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalise(text: str) -> str:
    """Lower case, straight quotes, single spaces."""
    return " ".join(text.translate(_QUOTES).lower().split())


def lemmas(nlp: Language, text: str) -> tuple[str, ...]:
    """The lower-case lemmas of ``text``, without punctuation or spaces."""
    doc = nlp(normalise(text))
    return tuple(
        (token.lemma_ or token.text).lower()
        for token in doc
        if not (token.is_punct or token.is_space)
    )


@dataclass(frozen=True)
class Found:
    """One phrase found in a text: what it stands for and where (token positions)."""

    key: str
    start: int
    end: int


class PhraseIndex:
    """Maps lemma sequences to keys and finds them in text, longest match first."""

    def __init__(self, nlp: Language, phrases: Iterable[tuple[str, str]]) -> None:
        self._nlp = nlp
        self._index: dict[tuple[str, ...], str] = {}
        pairs = list(phrases)
        texts = [normalise(phrase) for _, phrase in pairs]
        for (key, _), doc in zip(pairs, nlp.pipe(texts), strict=True):
            seq = tuple(
                (token.lemma_ or token.text).lower()
                for token in doc
                if not (token.is_punct or token.is_space)
            )
            # The first phrase listed wins a clash: content order is the tie-breaker.
            if seq and seq not in self._index:
                self._index[seq] = key
        self._longest = max((len(seq) for seq in self._index), default=0)

    def lemmas(self, text: str) -> tuple[str, ...]:
        return lemmas(self._nlp, text)

    def find_in(self, seq: tuple[str, ...]) -> list[Found]:
        """Non-overlapping matches in a lemma sequence, longest first, in text order."""
        taken = [False] * len(seq)
        found: list[Found] = []
        for size in range(min(self._longest, len(seq)), 0, -1):
            for start in range(len(seq) - size + 1):
                end = start + size
                if any(taken[start:end]):
                    continue
                key = self._index.get(seq[start:end])
                if key is not None:
                    found.append(Found(key, start, end))
                    for position in range(start, end):
                        taken[position] = True
        return sorted(found, key=lambda item: item.start)

    def find(self, text: str) -> list[Found]:
        """Non-overlapping matches in ``text``, longest first, in text order."""
        return self.find_in(self.lemmas(text))

    def keys_in(self, text: str) -> list[str]:
        """The distinct keys found in ``text``, in text order."""
        keys: list[str] = []
        for item in self.find(text):
            if item.key not in keys:
                keys.append(item.key)
        return keys

    def exact(self, text: str) -> str | None:
        """The key whose phrase is exactly ``text`` (as lemmas), if any."""
        return self._index.get(self.lemmas(text))
