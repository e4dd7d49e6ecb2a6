"""Normalisation of user text before the crisis patterns run.

People in distress type fast, on phones, in the spelling of their communities: curly
apostrophes, "dont", "soooo", "su1cide", "kms", "unalive". The patterns are written once, in
plain lower-case English (and Spanish, French, German); this module brings the user's text to
that form. The rules are reviewed data (``data/safety/normalization.yml``).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety.yaml_data import (
    DATA_DIR,
    SafetyDataError,
    load_yaml,
    reject_unknown_keys,
    require_list,
    require_mapping,
    require_text,
)

DEFAULT_RULES_PATH = DATA_DIR / "normalization.yml"

# Format (Cf) and control (Cc) characters: zero-width spaces and joiners, bidi marks and
# embeddings, soft hyphens, BOM, tag characters, NUL. They can hide inside a word ("k\u200bill")
# and would split it for the tokenizer. Listed by range so that no table of all code points is
# built at import time. Whitespace controls are turned into spaces first.
_INVISIBLE_RE = re.compile(
    "["
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
    "\ud800-\udfff"
    "]+"
)
# Letters only (no digits or underscore), so "1111" and "___" are left alone. Searching for the
# triple alone and widening to the word by hand: a regex for "the whole word around a triple"
# backtracks badly on long texts.
_TRIPLE_RE = re.compile(r"([^\W\d_])\1\1")
_RUN_RE = re.compile(r"([^\W\d_])\1+")
_WORD_RE = re.compile(r"\w+(?:'\w+)*")
_LONG_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class Rewrite:
    """One regular-expression rewrite from the rules file.

    ``hint`` is a literal the text must contain for the regex to be tried at all: two dozen
    regexes over a 5,000-character message cost more than the rest of the detector.
    """

    pattern: re.Pattern[str]
    replace: str
    hint: str


@dataclass(frozen=True)
class NormalizationRules:
    """The validated content of ``normalization.yml``."""

    char_map: dict[int, str]
    phrases: tuple[Rewrite, ...]
    words: dict[str, str]
    contractions: tuple[Rewrite, ...]
    leet: dict[str, tuple[str, ...]]
    fuzzy_keywords: tuple[str, ...]
    fuzzy_min_length: int
    known_words: frozenset[str]
    source: str = ""


def _load_rewrites(raw: object, path: Path, key: str) -> tuple[Rewrite, ...]:
    rewrites = []
    for index, item in enumerate(require_list(raw, path, key)):
        item_key = f"{key}[{index}]"
        entry = require_mapping(item, path, item_key)
        reject_unknown_keys(entry, {"match", "replace", "hint"}, path, item_key)
        match = require_text(entry.get("match"), path, f"{item_key}.match")
        hint = require_text(entry.get("hint"), path, f"{item_key}.hint")
        if hint != hint.casefold():
            raise SafetyDataError(path, f"{item_key}.hint", "hints are lower case")
        replace = entry.get("replace")
        if not isinstance(replace, str):
            raise SafetyDataError(path, f"{item_key}.replace", "expected text")
        try:
            compiled = re.compile(match)
        except re.error as exc:
            raise SafetyDataError(path, f"{item_key}.match", f"invalid regex ({exc})") from None
        rewrites.append(Rewrite(compiled, replace, hint))
    return tuple(rewrites)


def load_rules(path: Path = DEFAULT_RULES_PATH) -> NormalizationRules:
    """Load and validate the normalisation rules; errors name the file and the key."""
    path = Path(path)
    data = require_mapping(load_yaml(path), path, "")
    allowed = {"characters", "phrases", "words", "contractions", "leet", "fuzzy", "known_words"}
    reject_unknown_keys(data, allowed, path, "")
    for key in sorted(allowed):
        if key not in data:
            raise SafetyDataError(path, key, "missing")

    char_map: dict[int, str] = {}
    for target, chars in require_mapping(data["characters"], path, "characters").items():
        require_text(chars, path, f"characters.{target}")
        for char in chars:
            char_map[ord(char)] = target

    words: dict[str, str] = {}
    for word, replacement in require_mapping(data["words"], path, "words").items():
        key = f"words.{word}"
        if word != word.casefold() or not _WORD_RE.fullmatch(word):
            raise SafetyDataError(path, key, "keys must be single lower-case words")
        words[word] = require_text(replacement, path, key).strip()

    leet: dict[str, tuple[str, ...]] = {}
    for char, letters in require_mapping(data["leet"], path, "leet").items():
        key = f"leet.{char}"
        if len(char) != 1 or char.isalpha():
            raise SafetyDataError(path, key, "keys must be one non-letter character")
        options = require_list(letters, path, key)
        if not all(isinstance(x, str) and len(x) == 1 and x.isalpha() for x in options):
            raise SafetyDataError(path, key, "values must be single letters")
        leet[char] = tuple(options)

    fuzzy = require_mapping(data["fuzzy"], path, "fuzzy")
    reject_unknown_keys(fuzzy, {"min_length", "keywords"}, path, "fuzzy")
    min_length = fuzzy.get("min_length")
    if not isinstance(min_length, int) or min_length < 4:
        raise SafetyDataError(path, "fuzzy.min_length", "expected a whole number >= 4")
    keywords = []
    for index, word in enumerate(require_list(fuzzy.get("keywords"), path, "fuzzy.keywords")):
        key = f"fuzzy.keywords[{index}]"
        text = require_text(word, path, key)
        if not text.isalpha() or text != text.casefold() or len(text) < min_length:
            raise SafetyDataError(
                path, key, f"expected one lower-case word of {min_length}+ letters"
            )
        keywords.append(text)

    known = require_list(data["known_words"], path, "known_words")
    if not all(isinstance(w, str) and w.isalpha() for w in known):
        raise SafetyDataError(path, "known_words", "expected single words")

    return NormalizationRules(
        char_map=char_map,
        phrases=_load_rewrites(data["phrases"], path, "phrases"),
        words=words,
        contractions=_load_rewrites(data["contractions"], path, "contractions"),
        leet=leet,
        fuzzy_keywords=tuple(keywords),
        fuzzy_min_length=min_length,
        known_words=frozenset(w.casefold() for w in known),
        source=str(path),
    )


def _edits1(word: str) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return (deletes | swaps | replaces | inserts) - {word}


@dataclass
class Normalizer:
    """Applies ``NormalizationRules`` to text.

    ``known_word`` says whether a string is a real word (the detector passes the spaCy lookup
    table): it keeps "overdone" from being "corrected" to "overdose" and picks "kill" over
    "kil" when collapsing "killlll". ``keywords`` are the words the patterns use; a symbol
    inside a word is only read as a letter when that yields one of them.
    """

    rules: NormalizationRules
    known_word: Callable[[str], bool] | None = None
    keywords: Iterable[str] = ()
    _keywords_by_length: dict[int, tuple[str, ...]] = field(init=False, repr=False)
    _fuzzy: dict[str, str] = field(init=False, repr=False)
    _leet_chars: frozenset[str] = field(init=False, repr=False)
    _leet_token_re: re.Pattern[str] = field(init=False, repr=False)
    _leet_hint_re: re.Pattern[str] = field(init=False, repr=False)
    _char_re: re.Pattern[str] = field(init=False, repr=False)
    _vocab: frozenset[str] = field(init=False, repr=False)
    _word_map_re_cache: dict[frozenset[str], re.Pattern[str]] = field(init=False, repr=False)
    _fuzzy_keys: frozenset[str] = field(init=False, repr=False)
    _word_keys: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        vocab = set(self.keywords) | set(self.rules.fuzzy_keywords)
        for replacement in self.rules.words.values():
            vocab.update(replacement.split())
        vocab = {w for w in vocab if w.isalpha()}
        by_length: dict[int, list[str]] = {}
        for word in sorted(vocab):
            by_length.setdefault(len(word), []).append(word)
        self._keywords_by_length = {k: tuple(v) for k, v in by_length.items()}
        self._vocab = frozenset(vocab)

        fuzzy: dict[str, str] = {}
        ambiguous: set[str] = set()
        for keyword in self.rules.fuzzy_keywords:
            for variant in _edits1(keyword):
                if self._is_known(variant) or variant in self.rules.words:
                    continue
                if variant in fuzzy and fuzzy[variant] != keyword:
                    ambiguous.add(variant)
                fuzzy[variant] = keyword
        for variant in ambiguous:
            del fuzzy[variant]
        self._fuzzy = fuzzy
        # set & frozenset walks the smaller side; set.intersection(dict) walks the whole dict
        self._fuzzy_keys = frozenset(fuzzy)
        self._word_keys = frozenset(self.rules.words)

        self._leet_chars = frozenset(self.rules.leet) | {"*"}
        symbols = re.escape("".join(sorted(self._leet_chars)))
        self._leet_token_re = re.compile(
            rf"(?<![\w{symbols}])[a-z0-9{symbols}]*[{symbols}0-9][a-z0-9{symbols}]*"
            rf"(?![\w{symbols}])"
        )
        self._leet_hint_re = re.compile(rf"[a-z][{symbols}0-9]|[{symbols}0-9][a-z]")
        # str.translate looks every character up in a dict; a regex finds the few to replace.
        self._char_re = re.compile(
            "[" + "".join(re.escape(chr(code)) for code in sorted(self.rules.char_map)) + "]"
            if self.rules.char_map
            else "(?!)"
        )
        self._word_map_re_cache: dict[frozenset[str], re.Pattern[str]] = {}

    def _map_characters(self, text: str) -> str:
        if not self._char_re.search(text):
            return text
        char_map = self.rules.char_map
        return self._char_re.sub(lambda m: char_map[ord(m.group(0))], text)

    def _is_known(self, word: str) -> bool:
        if word in self.rules.known_words or word in self._vocab:
            return True
        return bool(self.known_word and self.known_word(word))

    def __call__(self, text: str) -> str:
        """Return the normalised form of ``text`` (a plain string, never ``None``)."""
        rules = self.rules
        text = self._map_characters(text)
        text = unicodedata.normalize("NFKC", text)
        text = self._map_characters(text)
        text = " ".join(text.split())  # str.split knows every Unicode space; faster than \s+
        text = _INVISIBLE_RE.sub("", text)
        text = text.casefold()
        if _TRIPLE_RE.search(text):
            text = self._collapse_all_repeats(text)
        if self._leet_hint_re.search(text):  # a symbol or digit touching a letter
            text = self._leet_token_re.sub(self._repair_leet, text)
        for rewrite in rules.phrases:
            if rewrite.hint in text:
                text = rewrite.pattern.sub(rewrite.replace, text)
        text = self._apply_word_map(text)
        for rewrite in rules.contractions:
            if rewrite.hint in text:
                text = rewrite.pattern.sub(rewrite.replace, text)
        text = self._apply_fuzzy(text)
        return " ".join(text.split())

    def _collapse_all_repeats(self, text: str) -> str:
        parts, last = [], 0
        for match in _TRIPLE_RE.finditer(text):
            if match.start() < last:
                continue
            start, end = match.start(), match.end()
            while start > 0 and text[start - 1].isalpha():
                start -= 1
            while end < len(text) and text[end].isalpha():
                end += 1
            parts.append(text[last:start])
            parts.append(self._collapse_word(text[start:end]))
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def _collapse_word(self, word: str) -> str:
        runs = [(m.start(), m.end()) for m in _RUN_RE.finditer(word) if m.end() - m.start() >= 3]
        if len(runs) > 4:  # keyboard mashing: no word to find, just shorten it
            return _RUN_RE.sub(lambda m: m.group(1), word)

        def build(lengths: tuple[int, ...]) -> str:
            parts, last = [], 0
            for (start, end), keep in zip(runs, lengths, strict=True):
                parts.append(word[last:start])
                parts.append(word[start] * keep)
                last = end
            parts.append(word[last:])
            return "".join(parts)

        for lengths in itertools.product((2, 1), repeat=len(runs)):
            candidate = build(lengths)
            if self._is_known(candidate):
                return candidate
        return build((1,) * len(runs))

    def _repair_leet(self, match: re.Match[str]) -> str:
        token = match.group(0)
        letters = sum(c.isalpha() for c in token)
        if letters < 2 or letters + token.count("*") < len(token) - 2:
            return token  # numbers, dates, "24/7", "3pm": not a disguised word
        candidates = self._keywords_by_length.get(len(token), ())
        if not candidates:
            return token
        parts = []
        for char in token:
            if char == "*":
                parts.append("[a-z]")
            elif char in self.rules.leet:
                parts.append("[" + "".join(self.rules.leet[char]) + "]")
            elif char.isdigit():
                return token
            else:
                parts.append(re.escape(char))
        pattern = re.compile("".join(parts))
        for word in candidates:
            if pattern.fullmatch(word):
                return word
        return token

    def _apply_word_map(self, text: str) -> str:
        present = frozenset(set(_WORD_RE.findall(text)) & self._word_keys)
        if not present:
            return text
        pattern = self._word_map_re_cache.get(present)
        if pattern is None:
            alternatives = "|".join(re.escape(w) for w in sorted(present, key=len, reverse=True))
            pattern = re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])")
            if len(self._word_map_re_cache) < 512:
                self._word_map_re_cache[present] = pattern
        return pattern.sub(lambda m: self.rules.words[m.group(0)], text)

    def _apply_fuzzy(self, text: str) -> str:
        candidates = set(_LONG_WORD_RE.findall(text)) & self._fuzzy_keys
        if not candidates:
            return text
        alternatives = "|".join(re.escape(w) for w in sorted(candidates, key=len, reverse=True))
        return re.sub(rf"\b(?:{alternatives})\b", lambda m: self._fuzzy[m.group(0)], text)


@functools.lru_cache(maxsize=1)
def _default_normalizer() -> Normalizer:
    return Normalizer(load_rules())


def normalize(text: str) -> str:
    """Normalise ``text`` with the default rules and no extra vocabulary.

    The crisis detector builds its own ``Normalizer`` that also knows the spaCy lookup words
    and the pattern vocabulary; this function is for tools and tests of the rules alone.
    """
    return _default_normalizer()(text)
