"""The crisis detector: the safety floor that decides whether crisis resources are shown.

It normalises the text (``normalize.py``), tokenises it with the shared spaCy pipeline and runs
spaCy ``Matcher`` patterns (reviewed data in ``data/safety/patterns/``). A match is silenced
only by an exclusion that overlaps it (a figure of speech such as "I'd die for tacos");
negation never silences one. On any internal error ``detect`` answers "crisis" with the
category ``unknown``: showing resources by mistake is cheap, staying silent is not.

Every pattern names a warning sign of ``data/safety/taxonomy.yml``. A crisis is in the
``check_in`` tier only when every sign it shows is a middle-band sign (a passive wish, a goodbye,
a burden statement, feeling trapped); any other sign, and any error, makes it ``full``.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot import spacy_pipeline
from bot.once import shared_once
from bot.safety import learned as learned_module
from bot.safety import normalize as normalize_module
from bot.safety import patterns as patterns_module
from bot.safety import taxonomy as taxonomy_module
from bot.safety.anchored import AnchoredMatcher
from bot.safety.patterns import CompiledVariant, PatternCompiler, PatternEntry

if TYPE_CHECKING:  # importing spaCy is slow (TensorFlow via thinc): only when loading
    from spacy.language import Language
    from spacy.tokens import Doc

logger = logging.getLogger(__name__)

CATEGORY_UNKNOWN = "unknown"
LEARNED_CATEGORY = "learned"  # the second layer fired (bot/safety/learned.py)
# spaCy refuses texts over ``nlp.max_length`` (1,000,000) characters; long texts are scanned in
# overlapping chunks. The overlap is far longer than any pattern can span (gaps are <= 9 tokens).
CHUNK_CHARS = 20_000
CHUNK_OVERLAP = 600


TIER_FULL = "full"  # the full static resources
TIER_CHECK_IN = "check_in"  # the middle band: a direct, kind question plus a crisis line


@dataclass(frozen=True)
class CrisisResult:
    """What the caller needs: whether to show resources, why (pattern ids), never the text.

    ``is_crisis`` is true for both tiers; ``tier`` says which answer: the full resources, or
    the check-in question for the middle band (a passive wish, a goodbye, a burden statement,
    feeling trapped) when nothing more serious was found: for the patterns, when every sign
    they show is a middle-band sign (``tier_of``).
    """

    is_crisis: bool
    categories: tuple[str, ...] = ()
    matched: tuple[str, ...] = ()
    tier: str = TIER_FULL
    signs: tuple[str, ...] = ()


def tier_of(signs: tuple[str, ...] | frozenset[str], middle_band: frozenset[str]) -> str:
    """``check_in`` when there are signs and all are middle-band signs, else ``full``."""
    return TIER_CHECK_IN if signs and all(sign in middle_band for sign in signs) else TIER_FULL


@dataclass(frozen=True)
class Analysis:
    """The detector's working, for tests and the evaluation report (holds normalised text)."""

    normalized: str
    matched: tuple[str, ...]
    categories: tuple[str, ...]
    suppressed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    matched_variants: tuple[str, ...] = ()
    silencing_variants: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    tier: str = TIER_FULL

    @property
    def is_crisis(self) -> bool:
        return bool(self.matched)


@dataclass
class _Compiled:
    nlp: Language
    normalizer: normalize_module.Normalizer
    crisis_matcher: AnchoredMatcher
    exclusion_matcher: AnchoredMatcher
    variants: dict[int, CompiledVariant]
    entries: list[PatternEntry]
    exclusions: list[PatternEntry]
    categories: tuple[str, ...]
    category_of: dict[str, str]
    taxonomy: taxonomy_module.Taxonomy
    sign_of: dict[str, str]


class CrisisDetector:
    """A crisis detector over a set of pattern files (the defaults are the reviewed ones).

    Loading (spaCy, patterns) happens once, on first use or on ``load()``, under a lock, so one
    instance can be shared by Sanic handlers, Rasa components and threads.
    """

    def __init__(
        self,
        *,
        pattern_dir: Path | None = None,
        exclusions_path: Path | None = None,
        sets_path: Path | None = None,
        normalization_path: Path | None = None,
        pipeline_path: Path | None = None,
        taxonomy_path: Path | None = None,
        prefilter: bool = True,
        layer: learned_module.LearnedLayer | None = None,
    ) -> None:
        self.pattern_dir = Path(pattern_dir or patterns_module.DEFAULT_PATTERN_DIR)
        self.exclusions_path = Path(exclusions_path or patterns_module.DEFAULT_EXCLUSIONS_PATH)
        self.sets_path = Path(sets_path or patterns_module.DEFAULT_SETS_PATH)
        self.normalization_path = Path(normalization_path or normalize_module.DEFAULT_RULES_PATH)
        self.pipeline_path = pipeline_path
        self.taxonomy_path = Path(taxonomy_path or taxonomy_module.DEFAULT_TAXONOMY_PATH)
        # Only the tokens around anchor words go through the Matchers (bot/safety/anchored.py);
        # False runs one Matcher over the whole text: the same matches, slower (tests compare).
        self.prefilter = prefilter
        # The learned second layer (learned.py); None: the patterns alone.
        self.layer = layer
        self._weak: frozenset[str] | None = None
        self._compiled: _Compiled | None = None
        self._lock = threading.Lock()

    # -- loading -----------------------------------------------------------------------------
    def load(self) -> None:
        """Load the pipeline and compile the patterns now (raises ``SafetyDataError`` on bad data)."""
        self._ensure_loaded()

    def _ensure_loaded(self) -> _Compiled:
        compiled = self._compiled
        if compiled is not None:
            return compiled
        with self._lock:
            if self._compiled is None:
                self._compiled = self._build()
            return self._compiled

    def _build(self) -> _Compiled:
        nlp = spacy_pipeline.load(self.pipeline_path)
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        lemma_values = frozenset(table.values())

        def lemma_of(word: str) -> str | None:
            return table.get(word, None)

        def known_word(word: str) -> bool:
            return word in table or word in lemma_values

        rules = normalize_module.load_rules(self.normalization_path)
        word_sets = patterns_module.load_word_sets(self.sets_path)
        taxonomy = taxonomy_module.load_taxonomy(self.taxonomy_path)
        entries = patterns_module.load_pattern_entries(self.pattern_dir, taxonomy)
        exclusions = patterns_module.load_exclusion_entries(self.exclusions_path)

        parsed = {
            (entry.id, index): patterns_module.parse_pattern(source, (entry.path, entry.key))
            for entry in [*entries, *exclusions]
            for index, source in enumerate(entry.sources)
        }
        # The normaliser must know the pattern words (to read "su1cide" as "suicide"), and the
        # patterns' words must survive the normaliser unchanged: two passes over the patterns.
        probe = PatternCompiler(word_sets, lemma_of, lambda word: None)
        keywords = probe.literal_words(parsed.values())
        normalizer = normalize_module.Normalizer(rules, known_word=known_word, keywords=keywords)

        @functools.cache
        def check_word(word: str) -> None:
            if normalizer(word) != word:
                raise ValueError(
                    f"{word!r} is not in normalised form (the text would read "
                    f"{normalizer(word)!r}); write the pattern in that form"
                )
            if len(nlp.tokenizer(word)) != 1:
                raise ValueError(f"{word!r} is more than one token; split it")

        compiler = PatternCompiler(word_sets, lemma_of, check_word)
        variants: dict[int, CompiledVariant] = {}
        groups: dict[str, list[CompiledVariant]] = {"crisis": [], "exclusion": []}
        for group, members in (("crisis", entries), ("exclusion", exclusions)):
            for entry in members:
                for index, _source in enumerate(entry.sources):
                    pattern = parsed[(entry.id, index)]
                    token_patterns = compiler.compile(pattern, (entry.path, entry.key))
                    variant = CompiledVariant(entry, index, token_patterns, pattern.end_anchor)
                    variants[nlp.vocab.strings.add(variant.key)] = variant
                    groups[group].append(variant)
        # spaCy's own schema check of the token dicts costs ~1.5 s at start-up; the compiler
        # only emits known shapes and tests/safety/test_safety_patterns.py validates them all.
        crisis_matcher = AnchoredMatcher(nlp.vocab, groups["crisis"])
        exclusion_matcher = AnchoredMatcher(nlp.vocab, groups["exclusion"])
        categories = tuple(sorted({entry.category for entry in entries}))
        return _Compiled(
            nlp=nlp,
            normalizer=normalizer,
            crisis_matcher=crisis_matcher,
            exclusion_matcher=exclusion_matcher,
            variants=variants,
            entries=entries,
            exclusions=exclusions,
            categories=categories,
            category_of={entry.id: entry.category for entry in entries},
            taxonomy=taxonomy,
            sign_of={entry.id: entry.sign for entry in entries},
        )

    # -- introspection for tests and tools ---------------------------------------------------
    @property
    def categories(self) -> tuple[str, ...]:
        """The crisis categories (one per pattern file)."""
        return self._ensure_loaded().categories

    @property
    def taxonomy(self) -> taxonomy_module.Taxonomy:
        """The warning signs the patterns name (``data/safety/taxonomy.yml``)."""
        return self._ensure_loaded().taxonomy

    @property
    def entries(self) -> list[PatternEntry]:
        return list(self._ensure_loaded().entries)

    @property
    def exclusions(self) -> list[PatternEntry]:
        return list(self._ensure_loaded().exclusions)

    def phrases(self) -> list[CompiledVariant]:
        """Every compiled phrase of the patterns and exclusions (for tests and tools)."""
        return list(self._ensure_loaded().variants.values())

    def normalize(self, text: str) -> str:
        """The text as the patterns see it."""
        return self._ensure_loaded().normalizer(text)

    # -- detection ---------------------------------------------------------------------------
    def analyse(self, text: str) -> Analysis:
        """Run the patterns on ``text`` and report matches and silenced matches (may raise)."""
        compiled = self._ensure_loaded()
        normalized = compiled.normalizer(text)
        matched: set[str] = set()
        variants: set[str] = set()
        silencing: set[str] = set()
        suppressed: dict[str, set[str]] = {}
        for chunk in _chunks(normalized):
            doc = compiled.nlp.tokenizer(chunk)
            self._match_doc(compiled, doc, matched, variants, silencing, suppressed)
        # A pattern that fired unsilenced anywhere counts, even if silenced elsewhere.
        for pattern_id in matched:
            suppressed.pop(pattern_id, None)
        categories = sorted({compiled.category_of[pattern_id] for pattern_id in matched})
        signs = tuple(sorted({compiled.sign_of[pattern_id] for pattern_id in matched}))
        return Analysis(
            normalized=normalized,
            matched=tuple(sorted(matched)),
            categories=tuple(categories),
            suppressed={k: tuple(sorted(v)) for k, v in sorted(suppressed.items())},
            matched_variants=tuple(sorted(variants)),
            silencing_variants=tuple(sorted(silencing)),
            signs=signs,
            tier=tier_of(signs, compiled.taxonomy.middle_band),
        )

    def _match_doc(
        self,
        compiled: _Compiled,
        doc: Doc,
        matched: set[str],
        variants: set[str],
        silencing: set[str],
        suppressed: dict[str, set[str]],
    ) -> None:
        hits = compiled.crisis_matcher(doc, prefilter=self.prefilter)
        if not hits:
            return
        near = [(start, end) for _, start, end in hits]
        exclusion_spans = [
            (start, end, compiled.variants[match_id])
            for match_id, start, end in compiled.exclusion_matcher(
                doc, prefilter=self.prefilter, near=near
            )
        ]
        for match_id, start, end in hits:
            variant = compiled.variants[match_id]
            if variant.end_anchor and not _ends_clause(doc, end):
                continue
            silencers = [
                exclusion
                for x_start, x_end, exclusion in exclusion_spans
                if x_start < end
                and start < x_end
                and not (exclusion.end_anchor and not _ends_clause(doc, x_end))
            ]
            if silencers:
                suppressed.setdefault(variant.entry.id, set()).update(
                    exclusion.entry.id for exclusion in silencers
                )
                silencing.update(exclusion.key for exclusion in silencers)
            else:
                matched.add(variant.entry.id)
                variants.add(variant.key)

    def detect(self, text: object) -> CrisisResult:
        """Decide whether ``text`` signals a crisis. Never raises; fails towards "crisis"."""
        try:
            if text is None:
                return CrisisResult(is_crisis=False)
            if isinstance(text, bytes | bytearray):
                text = bytes(text).decode("utf-8", errors="replace")
            if not isinstance(text, str):
                text = str(text)
            if not text.strip():
                return CrisisResult(is_crisis=False)
            analysis = self.analyse(text)
            result = (
                CrisisResult(
                    is_crisis=True,
                    categories=analysis.categories,
                    matched=analysis.matched,
                    tier=analysis.tier,
                    signs=analysis.signs,
                )
                if analysis.is_crisis
                else CrisisResult(is_crisis=False)
            )
            return self._with_layer(text, result)
        except Exception as exc:  # the safety floor must not fall through
            # The type only: messages of some exceptions (UnicodeError...) quote the text.
            logger.error("crisis detection failed (%s); answering as a crisis", type(exc).__name__)
            return CrisisResult(is_crisis=True, categories=(CATEGORY_UNKNOWN,), matched=())

    def _with_layer(self, text: str, result: CrisisResult) -> CrisisResult:
        """Join the learned layer's verdict: either layer firing is a crisis; full beats check-in.

        A weak pattern (data/safety/weak_patterns.yml) that fired alone counts only when the
        layer agrees, with its lower bar for that case. Without a layer every pattern counts.
        """
        if self.layer is None:
            return result
        weak = self._weak_ids()
        weak_only = result.is_crisis and all(m in weak for m in result.matched)
        verdict = self.layer.assess(text, self._ensure_loaded().normalizer, weak_pattern=weak_only)
        if not verdict.fired:
            return CrisisResult(is_crisis=False) if weak_only else result
        tier = verdict.tier or TIER_FULL
        if result.is_crisis and result.tier == TIER_FULL:
            tier = TIER_FULL
        return CrisisResult(
            is_crisis=True,
            categories=tuple(sorted({*result.categories, LEARNED_CATEGORY})),
            matched=(*result.matched, f"{LEARNED_CATEGORY}:{verdict.tier}"),
            tier=tier,
            signs=result.signs,
        )

    def _weak_ids(self) -> frozenset[str]:
        if self._weak is None:
            self._weak = learned_module.weak_pattern_ids()
        return self._weak


def _ends_clause(doc: Doc, end: int) -> bool:
    if end >= len(doc):
        return True
    token = doc[end]
    return token.is_punct or not any(char.isalpha() for char in token.text)


def _chunks(text: str) -> Iterator[str]:
    if len(text) <= CHUNK_CHARS:
        yield text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):
            space = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            if space > 0:
                end = space
        yield text[start:end]
        if end >= len(text):
            return
        next_start = text.rfind(" ", start, max(start + 1, end - CHUNK_OVERLAP))
        start = next_start + 1 if next_start > start else end - CHUNK_OVERLAP


@shared_once
def default_detector() -> CrisisDetector:
    """The process-wide detector over the reviewed pattern files."""
    return CrisisDetector(layer=learned_module.default_layer())


def detect(text: str) -> CrisisResult:
    """Whether ``text`` signals a crisis (see ``CrisisDetector.detect``). Never raises."""
    try:
        detector = default_detector()
    except Exception as exc:
        logger.error("crisis detector unavailable (%s); answering as a crisis", type(exc).__name__)
        return CrisisResult(is_crisis=True, categories=(CATEGORY_UNKNOWN,), matched=())
    return detector.detect(text)
