"""Normalisation of user text before the crisis patterns run.

People in distress type fast, on phones, in the spelling of their communities: curly
apostrophes, "dont", "soooo", "su1cide", "kms", "unalive". Others dress words up or hide them:
Cyrillic and Greek look-alikes inside Latin words, small capitals, stacked accents ("zalgo"),
variation selectors and invisible fillers. The patterns are written once, in plain lower-case
English (and Spanish, French, German); this module brings the user's text to that form. The
rules are reviewed data (``data/safety/normalization.yml``).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bot.safety import yaml_data

DEFAULT_RULES_PATH = yaml_data.DATA_DIR / "normalization.yml"

# Format (Cf) and control (Cc) characters: zero-width spaces and joiners, bidi marks and
# embeddings, soft hyphens, BOM, tag characters, NUL; and the invisible marks that are not Cf:
# variation selectors (emoji and ideographic), Mongolian free variation selectors, the combining
# grapheme joiner, Khmer's invisible vowels, the Greek ypogegrammeni (casefold makes it an iota). They can hide inside a word ("k\u200bill") and
# would split it for the tokenizer. Listed by range so that no table of all code points is built
# at import time. Whitespace controls are turned into spaces first; fillers that show as a blank
# (Hangul fillers, the braille blank) are spaces by ``normalization.yml``.
_INVISIBLE_RE = re.compile(
    "["
    "\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
    "\u00ad\u034f\u0345\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufe00-\ufe0f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef"
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
# Combining marks of the blocks that decorate Latin letters (stacked accents, "zalgo"). NFKC
# composes a real accent with its letter ("e" + U+0301 -> "é"); a mark left over afterwards is
# decoration. Marks of other scripts (Devanagari, Arabic, Hebrew...) are letters' parts and stay.
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_MARK_RE = re.compile(f"[{_MARKS}]")
# A non-ASCII letter or a decorating mark: where a word may need its accents or marks looked at.
_ACCENTED_RE = re.compile(f"[^\\W\\d_\\x00-\\x7f]|[{_MARKS}]")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_LATIN_LETTER_RE = re.compile("[A-Za-z]")
_GREEK_CYRILLIC_RE = re.compile("[\u0370-\u03ff\u0400-\u052f\u1f00-\u1fff]")


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
    lookalikes: dict[int, str]
    homoglyphs: dict[int, str]
    phrases: tuple[Rewrite, ...]
    words: dict[str, str]
    contractions: tuple[Rewrite, ...]
    leet: dict[str, tuple[str, ...]]
    typo_families: dict[str, tuple[str, ...]]
    never_correct: frozenset[str]
    typo_vocabulary: frozenset[str]
    known_words: frozenset[str]
    source: str = ""


def _load_rewrites(raw: object, path: Path, key: str) -> tuple[Rewrite, ...]:
    rewrites = []
    for index, item in enumerate(yaml_data.require_list(raw, path, key)):
        item_key = f"{key}[{index}]"
        entry = yaml_data.require_keys(item, {"match", "replace", "hint"}, path, item_key)
        match = yaml_data.require_text(entry.get("match"), path, f"{item_key}.match")
        hint = yaml_data.require_text(entry.get("hint"), path, f"{item_key}.hint")
        if hint != hint.casefold():
            raise yaml_data.SafetyDataError(path, f"{item_key}.hint", "hints are lower case")
        replace = entry.get("replace")
        if not isinstance(replace, str):
            raise yaml_data.SafetyDataError(path, f"{item_key}.replace", "expected text")
        try:
            compiled = re.compile(match)
        except re.error as exc:
            raise yaml_data.SafetyDataError(
                path, f"{item_key}.match", f"invalid regex ({exc})"
            ) from None
        rewrites.append(Rewrite(compiled, replace, hint))
    return tuple(rewrites)


def _load_glyphs(raw: object, path: Path, key: str, taken: dict[int, str]) -> dict[int, str]:
    """A map from look-alike characters to the Latin letter they imitate (case kept)."""
    glyphs: dict[int, str] = {}
    for letter, chars in yaml_data.require_mapping(raw, path, key).items():
        item_key = f"{key}.{letter}"
        if len(letter) != 1 or not ("a" <= letter.lower() <= "z"):
            raise yaml_data.SafetyDataError(path, item_key, "keys are single Latin letters")
        for char in yaml_data.require_text(chars, path, item_key):
            if char.isascii() or not char.isalpha():
                raise yaml_data.SafetyDataError(
                    path, item_key, f"{char!r} is not a non-Latin letter"
                )
            if ord(char) in glyphs or ord(char) in taken:
                raise yaml_data.SafetyDataError(path, item_key, f"{char!r} is listed twice")
            glyphs[ord(char)] = letter
    return glyphs


def load_rules(path: Path = DEFAULT_RULES_PATH) -> NormalizationRules:
    """Load and validate the normalisation rules; errors name the file and the key."""
    path = Path(path)
    allowed = {
        "characters",
        "lookalikes",
        "homoglyphs",
        "phrases",
        "words",
        "contractions",
        "leet",
        "typos",
        "known_words",
    }
    data = yaml_data.load_mapping(path, allowed)
    for key in sorted(allowed):
        if key not in data:
            raise yaml_data.SafetyDataError(path, key, "missing")

    char_map: dict[int, str] = {}
    for target, chars in yaml_data.require_mapping(data["characters"], path, "characters").items():
        yaml_data.require_text(chars, path, f"characters.{target}")
        for char in chars:
            char_map[ord(char)] = target

    lookalikes = _load_glyphs(data["lookalikes"], path, "lookalikes", {})
    homoglyphs = _load_glyphs(data["homoglyphs"], path, "homoglyphs", lookalikes)

    words: dict[str, str] = {}
    for word, replacement in yaml_data.require_mapping(data["words"], path, "words").items():
        key = f"words.{word}"
        if word != word.casefold() or not _WORD_RE.fullmatch(word):
            raise yaml_data.SafetyDataError(path, key, "keys must be single lower-case words")
        words[word] = yaml_data.require_text(replacement, path, key).strip()

    leet: dict[str, tuple[str, ...]] = {}
    for char, letters in yaml_data.require_mapping(data["leet"], path, "leet").items():
        key = f"leet.{char}"
        if len(char) != 1 or char.isalpha():
            raise yaml_data.SafetyDataError(path, key, "keys must be one non-letter character")
        options = yaml_data.require_list(letters, path, key)
        if not all(isinstance(x, str) and len(x) == 1 and x.isalpha() for x in options):
            raise yaml_data.SafetyDataError(path, key, "values must be single letters")
        leet[char] = tuple(options)

    typos = _load_typos(data["typos"], path)

    known = yaml_data.require_list(data["known_words"], path, "known_words")
    if not all(isinstance(w, str) and w.isalpha() for w in known):
        raise yaml_data.SafetyDataError(path, "known_words", "expected single words")

    return NormalizationRules(
        char_map=char_map,
        lookalikes=lookalikes,
        homoglyphs=homoglyphs,
        phrases=_load_rewrites(data["phrases"], path, "phrases"),
        words=words,
        contractions=_load_rewrites(data["contractions"], path, "contractions"),
        leet=leet,
        typo_families=typos[0],
        never_correct=typos[1],
        typo_vocabulary=typos[2],
        known_words=frozenset(w.casefold() for w in known),
        source=str(path),
    )


def _single_words(raw: object, path: Path, key: str) -> list[str]:
    words = yaml_data.require_list(raw, path, key)
    for index, word in enumerate(words):
        if not isinstance(word, str) or not word.isalpha() or not word.isascii():
            raise yaml_data.SafetyDataError(
                path, f"{key}[{index}]", "expected one word of letters a-z"
            )
        if word != word.casefold():
            raise yaml_data.SafetyDataError(path, f"{key}[{index}]", "expected lower case")
    return words


def _load_typos(
    raw: object, path: Path
) -> tuple[dict[str, tuple[str, ...]], frozenset[str], frozenset[str]]:
    """The ``typos`` section and the vocabulary file it names (relative to ``path``)."""
    allowed = {"keywords", "never_correct", "vocabulary"}
    typos = yaml_data.require_keys(raw, allowed, path, "typos")
    for name in sorted(allowed):
        if name not in typos:
            raise yaml_data.SafetyDataError(path, f"typos.{name}", "missing")
    families: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for family, members in yaml_data.require_mapping(
        typos["keywords"], path, "typos.keywords"
    ).items():
        key = f"typos.keywords.{family}"
        words = _single_words(members, path, key)
        for index, word in enumerate(words):
            if len(word) < MIN_TYPO_KEYWORD:
                raise yaml_data.SafetyDataError(
                    path, f"{key}[{index}]", f"key words have {MIN_TYPO_KEYWORD}+ letters"
                )
            if word in owner:
                raise yaml_data.SafetyDataError(path, f"{key}[{index}]", f"also in {owner[word]}")
            owner[word] = family
        families[family] = tuple(words)
    never = frozenset(_single_words(typos["never_correct"], path, "typos.never_correct"))
    name = yaml_data.require_text(typos["vocabulary"], path, "typos.vocabulary")
    vocabulary_path = path.parent / name
    vocabulary = yaml_data.load_mapping(vocabulary_path, {"words"})
    words = frozenset(_single_words(vocabulary.get("words"), vocabulary_path, "words"))
    return families, never, words


# QWERTY rows; a key's neighbours are the keys beside it and those touching it above and below
# (the lower row sits half a key to the right).
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
MIN_TYPO_KEYWORD = 3
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _neighbours() -> dict[str, frozenset[str]]:
    where = {char: (row, col) for row, keys in enumerate(_ROWS) for col, char in enumerate(keys)}
    near: dict[str, frozenset[str]] = {}
    for char, (row, col) in where.items():
        spots = [(row, col - 1), (row, col + 1), (row - 1, col), (row - 1, col + 1)]
        spots += [(row + 1, col - 1), (row + 1, col)]
        near[char] = frozenset(
            _ROWS[r][c] for r, c in spots if 0 <= r < len(_ROWS) and 0 <= c < len(_ROWS[r])
        )
    return near


NEIGHBOURS = _neighbours()


def one_edit_variants(word: str) -> Iterator[tuple[str, int]]:
    """Every string one typing slip away from ``word``, with a rank (lower: likelier).

    Ranks: 0 two letters swapped, 1 a letter missing or doubled, 2 a wrong letter, 3 a letter
    too many.
    Only the slips a keyboard makes count, so that misspellings of other words ("traped",
    "acused", "lieing") do not land on a key word: the first letter is kept (swapping it with
    the second is allowed), a wrong letter is a neighbouring key, an extra letter doubles or
    neighbours a letter beside it.
    """
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :], 0
    for i in range(1, len(word)):
        yield word[:i] + word[i + 1 :], 1
    for i in range(1, len(word)):
        for char in NEIGHBOURS.get(word[i], frozenset()):
            yield word[:i] + char + word[i + 1 :], 2
    for i in range(1, len(word) + 1):
        around = word[i - 1 : i + 1]
        for char in LETTERS:
            if char in around:
                yield word[:i] + char + word[i:], 1 if char == word[i - 1] else 3
            elif any(char in NEIGHBOURS.get(a, ()) for a in around):
                yield word[:i] + char + word[i:], 3


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
    _typos: dict[str, str] = field(init=False, repr=False)
    _leet_chars: frozenset[str] = field(init=False, repr=False)
    _leet_token_re: re.Pattern[str] = field(init=False, repr=False)
    _leet_hint_re: re.Pattern[str] = field(init=False, repr=False)
    _char_re: re.Pattern[str] = field(init=False, repr=False)
    _vocab: frozenset[str] = field(init=False, repr=False)
    _word_map_re_cache: dict[frozenset[str], re.Pattern[str]] = field(init=False, repr=False)
    _typo_keys: frozenset[str] = field(init=False, repr=False)
    _word_keys: frozenset[str] = field(init=False, repr=False)
    _glyph_re: re.Pattern[str] = field(init=False, repr=False)
    _homoglyph_re: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        typo_keywords = {w for words in self.rules.typo_families.values() for w in words}
        vocab = set(self.keywords) | typo_keywords
        for replacement in self.rules.words.values():
            vocab.update(replacement.split())
        vocab = {w for w in vocab if w.isalpha()}
        by_length: dict[int, list[str]] = {}
        for word in sorted(vocab):
            by_length.setdefault(len(word), []).append(word)
        self._keywords_by_length = {k: tuple(v) for k, v in by_length.items()}
        self._vocab = frozenset(vocab)
        self._typos = self._build_typos()
        # set & frozenset walks the smaller side; set.intersection(dict) walks the whole dict
        self._typo_keys = frozenset(self._typos)
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
        self._glyph_re = _char_class({**self.rules.lookalikes, **self.rules.homoglyphs})
        self._homoglyph_re = _char_class(self.rules.homoglyphs)

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
        if not text.isascii():
            text = self._map_glyphs(text)
        text = text.casefold()
        if not text.isascii() and _ACCENTED_RE.search(text):
            decorated = bool(_MARK_RE.search(text))
            text = _around(text, _ACCENTED_RE, lambda word: self._plain_word(word, decorated))
        if _TRIPLE_RE.search(text):
            text = self._collapse_all_repeats(text)
        if self._leet_hint_re.search(text):  # a symbol or digit touching a letter
            text = self._leet_token_re.sub(self._repair_leet, text)
        text = self._correct_typos(text)
        for rewrite in rules.phrases:
            if rewrite.hint in text:
                text = rewrite.pattern.sub(rewrite.replace, text)
        text = self._apply_word_map(text)
        for rewrite in rules.contractions:
            if rewrite.hint in text:
                text = rewrite.pattern.sub(rewrite.replace, text)
        return " ".join(text.split())

    def _map_glyphs(self, text: str) -> str:
        """Look-alike letters back to Latin (before casefolding: "Н" is H, "η" is n).

        Latin-script look-alikes (small capitals, "ł") are always mapped. Cyrillic and Greek ones
        only inside a word that also has Latin letters ("kіll"), or when the whole word is made
        of look-alikes, spells a pattern word and no Cyrillic or Greek letter of the text is
        anything but a look-alike: Russian and Greek text stays as it is.
        """
        if not self._glyph_re.search(text):
            return text
        if self.rules.lookalikes:
            text = text.translate(self.rules.lookalikes)
        if not self._homoglyph_re.search(text):
            return text
        homoglyphs = self.rules.homoglyphs
        disguised: list[bool] = []

        def all_lookalikes() -> bool:  # no Cyrillic or Greek letter of its own: Latin in disguise
            if not disguised:
                disguised.append(
                    all(ord(m.group(0)) in homoglyphs for m in _GREEK_CYRILLIC_RE.finditer(text))
                )
            return disguised[0]

        def fix(word: str) -> str:
            mapped = word.translate(homoglyphs)
            if _LATIN_LETTER_RE.search(word):  # look-alikes are never ASCII
                return mapped
            parts = _LONG_WORD_RE.findall(mapped.casefold())
            if parts and all(p.isascii() and p in self._vocab for p in parts) and all_lookalikes():
                return mapped
            return word

        # the word is all between spaces: "don'τ" and "ѕ*icide" are Latin words in disguise
        return _around(text, self._homoglyph_re, fix, lambda char: not char.isspace())

    def _plain_word(self, word: str, decorated: bool) -> str:
        """A word with decorating marks, or with accents no pattern word has, without them.

        In a text with marks NFKC could not compose ("k̷i̷l̷l̷", ``decorated``) every word loses
        its marks and accents: some of the decoration composed into accented letters ("ḱ").
        Elsewhere "kíll" becomes "kill" because "kill" is a pattern word and "kíll" is not;
        "está", "médicaments" and "möchte" keep their accents.
        """
        if decorated:
            undecorated = _MARK_RE.sub("", word)
            if undecorated in self._vocab:
                return undecorated
            plain = _strip_accents(word)
            if plain in self._vocab:
                return plain
            umlauts = _strip_accents(undecorated.translate(_UMLAUTS))
            return umlauts if umlauts in self._vocab else plain
        if word in self._vocab:
            return word
        plain = _strip_accents(word)
        return plain if plain in self._vocab else word

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

    def _build_typos(self) -> dict[str, str]:
        """Misspelling -> key word, for every one-slip misspelling that is not a real word.

        A string is left alone when it is a word of its own: the spaCy lookup table
        (``known_word``), the pattern words, the word map, ``never_correct`` and the generated
        vocabulary of real English, Spanish, French, German, Italian and Portuguese words
        (``typo_vocabulary.yml``). It is corrected only when every key word it is one slip from
        belongs to one family ("kils": kill or kills); the likeliest slip picks the word.
        """
        rules = self.rules
        family_of = {w: family for family, words in rules.typo_families.items() for w in words}
        options: dict[str, set[tuple[int, str, str]]] = {}
        for word, family in family_of.items():
            for variant, rank in one_edit_variants(word):
                if (
                    len(variant) < MIN_TYPO_KEYWORD
                    or variant in family_of
                    or variant in rules.words
                    or variant in rules.never_correct
                    or variant in rules.typo_vocabulary
                    or self._is_known(variant)
                ):
                    continue
                options.setdefault(variant, set()).add((rank, family, word))
        return {
            variant: min(found)[2]
            for variant, found in options.items()
            if len({family for _, family, _ in found}) == 1
        }

    def _correct_typos(self, text: str) -> str:
        candidates = set(_LONG_WORD_RE.findall(text)) & self._typo_keys
        if not candidates:
            return text
        alternatives = "|".join(re.escape(w) for w in sorted(candidates, key=len, reverse=True))
        return re.sub(rf"\b(?:{alternatives})\b", lambda m: self._typos[m.group(0)], text)


def _char_class(chars: Iterable[int]) -> re.Pattern[str]:
    codes = sorted(chars)
    return re.compile("[" + "".join(re.escape(chr(c)) for c in codes) + "]" if codes else "(?!)")


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _around(
    text: str,
    found: re.Pattern[str],
    rewrite: Callable[[str], str],
    in_word: Callable[[str], bool] | None = None,
) -> str:
    """``rewrite`` applied to each word that contains a match of ``found``.

    A word is a run of characters for which ``in_word`` holds (default: letters and marks).
    Found by the character, then widened to the word by hand: a regex for the whole word around
    a character backtracks badly on long words.
    """
    in_word = in_word or _is_word_char
    parts, last = [], 0
    for match in found.finditer(text):
        if match.start() < last:
            continue
        start, end = match.start(), match.end()
        while start > 0 and in_word(text[start - 1]):
            start -= 1
        while end < len(text) and in_word(text[end]):
            end += 1
        parts.append(text[last:start])
        parts.append(rewrite(text[start:end]))
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _is_word_char(char: str) -> bool:
    return char.isalpha() or bool(_MARK_RE.match(char))


@functools.lru_cache(maxsize=1)
def _default_normalizer() -> Normalizer:
    return Normalizer(load_rules())


def normalize(text: str) -> str:
    """Normalise ``text`` with the default rules and no extra vocabulary.

    The crisis detector builds its own ``Normalizer`` that also knows the spaCy lookup words
    and the pattern vocabulary; this function is for tools and tests of the rules alone.
    """
    return _default_normalizer()(text)
