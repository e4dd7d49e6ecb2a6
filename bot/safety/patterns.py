"""The crisis pattern files and the small pattern language they are written in.

Patterns are reviewed data (``data/safety/patterns/<category>.yml``, ``exclusions.yml``,
``sets.yml``), written as phrases of the *normalised* text so that a reviewer can read them:

    word        that exact token              a|b|c    any of these
    ~word       any form of the word          @set     a word set from sets.yml
    /regex/     a token matching the regex    x?       that token is optional
    _N          0..N other tokens (N <= 9), never across . ! ? ;
    $           (last only) the text ends or punctuation follows

Every crisis pattern names its warning sign (``sign:``, an id of ``data/safety/taxonomy.yml``).
They compile to spaCy ``Matcher`` token patterns on ``LOWER``. Word forms ("~kill") are
expanded from the shared pipeline's lemma lookup table at load time, instead of asking for
``LEMMA`` at match time: the lookup table files "dying" under "dye", and running the lemmatizer
on every message would cost more than the rest of the detector (measured: ~4 ms for 5,000
characters against ~1 ms without it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.safety import yaml_data
from bot.safety.taxonomy import Taxonomy, default_taxonomy

DEFAULT_PATTERN_DIR = yaml_data.DATA_DIR / "patterns"
DEFAULT_EXCLUSIONS_PATH = yaml_data.DATA_DIR / "exclusions.yml"
DEFAULT_SETS_PATH = yaml_data.DATA_DIR / "sets.yml"

# Frequent words make poor anchors: a phrase is only tried near its anchor token (see
# ``anchor_of`` and bot/safety/anchored.py), and an anchor on "i" would wake it everywhere.
# Performance only: which phrases match does not depend on these lists.
_VERY_COMMON = frozenset(
    """
    i me my you your he him his she her they them their we us our it its a an the this that
    to of in on at for with by from and or but if so not do does did am is are was were be
    can 's have has
    """.split()
)
_COMMON = frozenset(
    """
    myself these those up out off about into over as no been being had will would could
    should may might must just really very all any some what when where how why who want
    wanted wants need needs going go get got like feel think know make take say said see one
    time day now then there here more much again still even anymore people everyone someone
    life good bad thing things way never ever too also only well around done
    """.split()
)


def _anchor_weight(word: str) -> float:
    if word in _VERY_COMMON:
        return 20.0
    return 5.0 if word in _COMMON else 1.0


SENTENCE_BOUNDARY = (".", "!", "?", ";", "…", "..", "...", "?!", "!!", "??")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_GAP_RE = re.compile(r"^_([1-9])$")
MAX_EXAMPLE_LENGTH = 2000


@dataclass(frozen=True)
class PatternEntry:
    """One reviewed pattern (or exclusion) with the phrases that express it."""

    id: str
    category: str
    sources: tuple[str, ...]
    examples: tuple[str, ...]
    path: str
    key: str
    sign: str = ""  # the warning sign (data/safety/taxonomy.yml); exclusions have none


@dataclass(frozen=True)
class Alternative:
    kind: str  # "word", "lemma", "set", "regex"
    value: str


@dataclass(frozen=True)
class TokenSpec:
    alternatives: tuple[Alternative, ...] = ()
    optional: bool = False
    gap: int = 0


@dataclass(frozen=True)
class ParsedPattern:
    tokens: tuple[TokenSpec, ...]
    end_anchor: bool


@dataclass(frozen=True)
class CompiledVariant:
    """One phrase of a pattern entry as spaCy ``Matcher`` token dicts."""

    entry: PatternEntry
    index: int
    token_patterns: list[dict[str, Any]]
    end_anchor: bool

    @property
    def key(self) -> str:
        return f"{self.entry.id}/{self.index}"


def _load_entries(
    path: Path, data: Any, category: str, list_key: str, taxonomy: Taxonomy | None = None
) -> list[PatternEntry]:
    """The entries of one file; crisis patterns (``taxonomy`` given) must name their sign."""
    items = yaml_data.require_list(data.get(list_key), path, list_key)
    entries = []
    allowed = {"id", "pattern", "patterns", "examples", "note"}
    if taxonomy is not None:
        allowed.add("sign")
    for index, raw in enumerate(items):
        key = f"{list_key}[{index}]"
        item = yaml_data.require_keys(raw, allowed, path, key)
        entry_id = yaml_data.require_text(item.get("id"), path, f"{key}.id")
        if not _NAME_RE.match(entry_id):
            raise yaml_data.SafetyDataError(path, f"{key}.id", "ids are lower_snake_case")
        key = f"{list_key}[{index}] ({entry_id})"
        sign = "" if taxonomy is None else taxonomy.require(item.get("sign"), path, f"{key}.sign")
        if ("pattern" in item) == ("patterns" in item):
            raise yaml_data.SafetyDataError(
                path, key, "give exactly one of 'pattern' or 'patterns'"
            )
        if "pattern" in item:
            sources = [yaml_data.require_text(item["pattern"], path, f"{key}.pattern")]
        else:
            sources = [
                yaml_data.require_text(s, path, f"{key}.patterns[{i}]")
                for i, s in enumerate(
                    yaml_data.require_list(item["patterns"], path, f"{key}.patterns")
                )
            ]
        examples = [
            yaml_data.require_text(e, path, f"{key}.examples[{i}]")
            for i, e in enumerate(
                yaml_data.require_list(item.get("examples"), path, f"{key}.examples")
            )
        ]
        for i, example in enumerate(examples):
            if len(example) > MAX_EXAMPLE_LENGTH:
                raise yaml_data.SafetyDataError(path, f"{key}.examples[{i}]", "example is too long")
        entries.append(
            PatternEntry(
                id=entry_id,
                category=category,
                sources=tuple(s.strip() for s in sources),
                examples=tuple(examples),
                path=str(path),
                key=key,
                sign=sign,
            )
        )
    return entries


def load_pattern_entries(
    pattern_dir: Path = DEFAULT_PATTERN_DIR, taxonomy: Taxonomy | None = None
) -> list[PatternEntry]:
    """Load every ``<category>.yml`` of ``pattern_dir``; the file's ``category`` is its stem.

    Every pattern names its warning sign, checked against ``taxonomy`` (default: the reviewed
    ``data/safety/taxonomy.yml``).
    """
    pattern_dir = Path(pattern_dir)
    taxonomy = taxonomy or default_taxonomy()
    files = sorted(pattern_dir.glob("*.yml"))
    if not files:
        raise yaml_data.SafetyDataError(pattern_dir, "", "no pattern files (*.yml) found")
    entries: list[PatternEntry] = []
    seen: dict[str, str] = {}
    for path in files:
        data = yaml_data.load_mapping(path, {"category", "patterns"})
        category = yaml_data.require_text(data.get("category"), path, "category")
        if category != path.stem or not _NAME_RE.match(category):
            raise yaml_data.SafetyDataError(
                path, "category", f"must be the file name without .yml ({path.stem!r})"
            )
        for entry in _load_entries(path, data, category, "patterns", taxonomy):
            if entry.id in seen:
                raise yaml_data.SafetyDataError(
                    path, entry.key, f"id also used in {seen[entry.id]}"
                )
            seen[entry.id] = entry.path
            entries.append(entry)
    return entries


def load_exclusion_entries(path: Path = DEFAULT_EXCLUSIONS_PATH) -> list[PatternEntry]:
    """Load the figures of speech that silence an overlapping crisis match."""
    path = Path(path)
    data = yaml_data.load_mapping(path, {"exclusions"})
    entries = _load_entries(path, data, "exclusion", "exclusions")
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise yaml_data.SafetyDataError(path, "exclusions", f"duplicate id {duplicates[0]!r}")
    return entries


@dataclass(frozen=True)
class WordSets:
    """The raw content of ``sets.yml``."""

    sets: dict[str, tuple[str, ...]]
    extra_forms: dict[str, tuple[str, ...]]
    path: str


def load_word_sets(path: Path = DEFAULT_SETS_PATH) -> WordSets:
    """Load ``sets.yml`` (named word sets and extra word forms)."""
    path = Path(path)
    data = yaml_data.load_mapping(path, {"sets", "extra_forms"})
    sets = {}
    for name, members in yaml_data.require_mapping(data.get("sets"), path, "sets").items():
        if not _NAME_RE.match(name):
            raise yaml_data.SafetyDataError(path, f"sets.{name}", "set names are lower_snake_case")
        values = yaml_data.require_list(members, path, f"sets.{name}")
        for i, value in enumerate(values):
            yaml_data.require_text(value, path, f"sets.{name}[{i}]")
        sets[name] = tuple(v.strip() for v in values)
    extra = {}
    raw_extra = data.get("extra_forms") or {}
    for lemma, forms in yaml_data.require_mapping(raw_extra, path, "extra_forms").items():
        values = yaml_data.require_list(forms, path, f"extra_forms.{lemma}")
        for i, value in enumerate(values):
            yaml_data.require_text(value, path, f"extra_forms.{lemma}[{i}]")
        extra[lemma] = tuple(v.strip() for v in values)
    return WordSets(sets=sets, extra_forms=extra, path=str(path))


def _parse_alternative(text: str, where: tuple[str, str]) -> Alternative:
    path, key = where
    if text.startswith("/"):
        if len(text) < 3 or not text.endswith("/"):
            raise yaml_data.SafetyDataError(path, key, f"regex token {text!r} must look like /.../")
        body = text[1:-1]
        try:
            re.compile(body)
        except re.error as exc:
            raise yaml_data.SafetyDataError(path, key, f"invalid regex {text!r} ({exc})") from None
        return Alternative("regex", body)
    if text.startswith("~"):
        return Alternative("lemma", text[1:])
    if text.startswith("@"):
        return Alternative("set", text[1:])
    return Alternative("word", text)


def parse_pattern(source: str, where: tuple[str, str]) -> ParsedPattern:
    """Parse one phrase of the pattern language (see the module docstring)."""
    path, key = where
    raw_tokens = source.split()
    end_anchor = bool(raw_tokens) and raw_tokens[-1] == "$"
    if end_anchor:
        raw_tokens = raw_tokens[:-1]
    tokens: list[TokenSpec] = []
    for raw in raw_tokens:
        gap = _GAP_RE.match(raw)
        if gap:
            tokens.append(TokenSpec(gap=int(gap.group(1))))
            continue
        if raw == "$":
            raise yaml_data.SafetyDataError(path, key, f"'$' must be the last token in {source!r}")
        optional = raw.endswith("?") and not (raw.startswith("/") and raw.endswith("/"))
        body = raw[:-1] if optional else raw
        if not body:
            raise yaml_data.SafetyDataError(path, key, f"empty token in {source!r}")
        if body.startswith("/") and body.endswith("/") and len(body) >= 3:
            parts = [body]  # a regex may contain '|'
        else:
            parts = body.split("|")
        if any(not p for p in parts):
            raise yaml_data.SafetyDataError(
                path, key, f"empty alternative in {raw!r} of {source!r}"
            )
        alternatives = tuple(_parse_alternative(p, where) for p in parts)
        tokens.append(TokenSpec(alternatives=alternatives, optional=optional))
    solid = [t for t in tokens if t.alternatives and not t.optional]
    if not solid:
        raise yaml_data.SafetyDataError(path, key, f"{source!r} needs at least one required token")
    if tokens[0].gap or tokens[-1].gap:
        raise yaml_data.SafetyDataError(path, key, f"{source!r} may not start or end with a gap")
    return ParsedPattern(tokens=tuple(tokens), end_anchor=end_anchor)


class PatternCompiler:
    """Turns parsed patterns into ``Matcher`` token dicts, resolving sets and word forms.

    ``lemma_of`` looks a word up in the pipeline's lemma table (``None`` if absent);
    ``check_word`` raises ``ValueError`` for a literal that the normalised text can never
    contain (two tokens, or a spelling the normaliser rewrites).
    """

    def __init__(
        self,
        word_sets: WordSets,
        lemma_of: Callable[[str], str | None],
        check_word: Callable[[str], None],
    ) -> None:
        self.word_sets = word_sets
        self.lemma_of = lemma_of
        self.check_word = check_word
        self._set_cache: dict[str, frozenset[str]] = {}
        self._forms_cache: dict[str, frozenset[str]] = {}

    def forms(self, lemma: str) -> frozenset[str]:
        """Every form of ``lemma``: regular inflections the lookup table confirms, plus extras."""
        cached = self._forms_cache.get(lemma)
        if cached is not None:
            return cached
        candidates = {lemma + s for s in ("s", "es", "ed", "d", "ing")}
        if lemma.endswith("e"):
            candidates.add(lemma[:-1] + "ing")
        if lemma.endswith("y"):
            candidates.update({lemma[:-1] + "ies", lemma[:-1] + "ied"})
        if lemma.endswith("ie"):
            candidates.add(lemma[:-2] + "ying")
        candidates.update({lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"})
        forms = {lemma} | {c for c in candidates if self.lemma_of(c) == lemma}
        forms.update(self.word_sets.extra_forms.get(lemma, ()))
        result = frozenset(forms)
        self._forms_cache[lemma] = result
        return result

    def resolve_set(
        self, name: str, where: tuple[str, str], _stack: tuple[str, ...] = ()
    ) -> frozenset[str]:
        """The words of set ``name`` with nested sets and word forms expanded."""
        path, key = where
        if name in self._set_cache:
            return self._set_cache[name]
        if name not in self.word_sets.sets:
            raise yaml_data.SafetyDataError(
                path, key, f"unknown set @{name} (see {self.word_sets.path})"
            )
        if name in _stack:
            chain = " -> ".join((*_stack, name))
            raise yaml_data.SafetyDataError(
                self.word_sets.path, f"sets.{name}", f"set includes itself ({chain})"
            )
        words: set[str] = set()
        set_where = (self.word_sets.path, f"sets.{name}")
        for member in self.word_sets.sets[name]:
            alternative = _parse_alternative(member, set_where)
            if alternative.kind == "regex":
                raise yaml_data.SafetyDataError(*set_where, "sets hold words, not regexes")
            words.update(self._words_of(alternative, set_where, (*_stack, name)))
        result = frozenset(words)
        self._set_cache[name] = result
        return result

    def _words_of(
        self, alternative: Alternative, where: tuple[str, str], stack: tuple[str, ...] = ()
    ) -> frozenset[str]:
        path, key = where
        if alternative.kind == "set":
            return self.resolve_set(alternative.value, where, stack)
        try:
            self.check_word(alternative.value)
        except ValueError as exc:
            raise yaml_data.SafetyDataError(path, key, str(exc)) from None
        if alternative.kind == "lemma":
            return self.forms(alternative.value)
        return frozenset({alternative.value})

    def literal_words(self, parsed: Iterable[ParsedPattern]) -> set[str]:
        """Plain words the patterns and sets mention (the normaliser's keyword list)."""
        words: set[str] = set()
        for members in self.word_sets.sets.values():
            for member in members:
                if member[:1] not in "@/":
                    words.add(member.lstrip("~"))
        for pattern in parsed:
            for token in pattern.tokens:
                for alternative in token.alternatives:
                    if alternative.kind in ("word", "lemma"):
                        words.add(alternative.value)
        return words

    def compile(self, parsed: ParsedPattern, where: tuple[str, str]) -> list[dict[str, Any]]:
        """Token dicts for spaCy's ``Matcher``."""
        result: list[dict[str, Any]] = []
        for token in parsed.tokens:
            if token.gap:
                result.append(
                    {"LOWER": {"NOT_IN": list(SENTENCE_BOUNDARY)}, "OP": f"{{0,{token.gap}}}"}
                )
                continue
            words: set[str] = set()
            regexes: list[str] = []
            for alternative in token.alternatives:
                if alternative.kind == "regex":
                    regexes.append(alternative.value)
                else:
                    words.update(self._words_of(alternative, where))
            spec: dict[str, Any]
            if regexes:
                if words:
                    literal = "|".join(re.escape(w) for w in sorted(words))
                    regexes.append(f"^(?:{literal})$")
                spec = {"LOWER": {"REGEX": "|".join(f"(?:{r})" for r in regexes)}}
            elif len(words) == 1:
                spec = {"LOWER": next(iter(words))}
            else:
                spec = {"LOWER": {"IN": sorted(words)}}
            if token.optional:
                spec["OP"] = "?"
            result.append(spec)
        return result


def anchor_of(token_patterns: list[dict[str, Any]]) -> tuple[frozenset[str], str | None, int]:
    """The least frequent required token of a compiled pattern: (words, regex, index).

    Every match of the pattern contains a token that satisfies this spec, so the detector can
    skip the pattern where no such token occurs. Exactly one of words and regex is set.
    """
    best: tuple[float, frozenset[str], str | None, int] | None = None
    for index, spec in enumerate(token_patterns):
        if "OP" in spec:
            continue
        lower = spec["LOWER"]
        if isinstance(lower, str):
            words, regex = frozenset({lower}), None
        elif "IN" in lower:
            words, regex = frozenset(lower["IN"]), None
        elif "REGEX" in lower:
            words, regex = frozenset(), lower["REGEX"]
        else:
            continue
        if regex is not None:
            score = 2.0
        else:
            score = max(_anchor_weight(w) for w in words) + len(words) / 1000
        if best is None or score < best[0]:
            best = (score, words, regex, index)
    if best is None:
        raise ValueError("pattern has no required token")
    return best[1], best[2], best[3]


def span_length(token_patterns: list[dict[str, Any]]) -> int:
    """The most tokens one match of the pattern can cover."""
    total = 0
    for spec in token_patterns:
        op = spec.get("OP")
        if op and op.startswith("{"):
            total += int(op.strip("{}").split(",")[1])
        else:
            total += 1
    return total
