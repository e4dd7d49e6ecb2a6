"""How assertive is one reply to a pushy request? Rules over the shared spaCy pipeline.

The labels follow assertiveness training (DEAR MAN; Manuel Smith's broken record):

- ``aggressive``: any hostility (insults, contempt, sarcasm, threats, swearing, shouting).
- ``passive``: no clear no, or the reply ends on a give-in or a maybe. The *last* stance wins:
  "no I can't... well ok, maybe just this once" is passive.
- ``partial``: a clear no buried under stacked apologies, reasons or hesitation.
- ``assertive``: a clear no, brief and respectful; one short sorry or one short reason is fine.

Decisions worth knowing: "I'd rather not" / "I'd prefer not to" is a soft but clear no;
"I don't think so", "I don't think I can" and "probably not" are maybes (hedges), not a no;
an excuse on its own ("money's tight") is not a no; "maybe next week" after a no is an
alternative, not a hedge. Patterns live in ``data/roleplay/assessor_patterns.yml``.

Rules rather than a trained model: the labelled set is small, every decision can be read and
argued with, and a reply the rules miss can be fixed by a writer, not by retraining.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.roleplay.content import CONTENT_DIR, ContentError, Reader, read_yaml
from bot.roleplay.phrases import PhraseError, compile_phrase

if TYPE_CHECKING:  # spaCy imports TensorFlow through thinc: only load it when assessing.
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

LABELS = ("assertive", "passive", "aggressive", "partial")
FEATURES = (
    "clear_no",
    "apology",
    "over_justification",
    "hedge",
    "alternative_offered",
    "hostile",
)
PATTERNS_PATH = CONTENT_DIR / "assessor_patterns.yml"

# Longer replies are cut before parsing: the stance of a reply lives in its words, and a
# pasted novel must not stall the action server. 10,000 characters fit whole.
MAX_CHARS = 20_000

_PATTERN_GROUPS = (
    "refusal",
    "refusal_unless_asked",
    "not_refusal",
    "give_in",
    "not_give_in",
    "hedge",
    "not_hedge",
    "soft_no",
    "apology",
    "softener",
    "reason",
    "alternative",
    "alternative_after_no",
    "offer",
    "hostile",
    "courtesy",
)
_WORD_LISTS = (
    "no_words",
    "not_a_no_after",
    "not_a_no_before",
    "not_opener_exceptions",
    "no_intensifiers",
    "reason_connectives",
    "clause_breaks",
    "give_in_openers",
    "fillers",
    "cave_markers",
    "not_offer_verbs",
    "partial_amount",
    "caps_ok",
)
# Tokens that are not words but are not clause breaks either ("$300", "50%", "R&D").
_NOT_BREAKS = {"$", "£", "€", "%", "&", "'", "’", "#", "@"}


@dataclass(frozen=True)
class Assessment:
    """The verdict on one reply: a label, six features, and the words behind each feature.

    ``stance`` is the last stance taken in the reply (``refuse``, ``give_in``, ``hedge`` or
    ``none``): the engine uses it to tell a give-in from a maybe.
    """

    label: str
    features: dict[str, bool]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    stance: str = "none"

    def to_dict(self, with_evidence: bool = False) -> dict[str, Any]:
        """A JSON-able form (evidence holds the user's words: leave it out unless needed)."""
        out: dict[str, Any] = {"label": self.label, "features": dict(self.features)}
        if with_evidence:
            out["evidence"] = {key: list(words) for key, words in self.evidence.items()}
        return out


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    group: str


class PatternSet:
    """The pattern file, validated and compiled once."""

    def __init__(self, path: Path = PATTERNS_PATH) -> None:
        root = Reader(path, read_yaml(path))
        root.mapping()
        self.path = path
        self.normalise = self._read_normalise(root.child("normalise"))
        self.contractions = self._read_contractions(root.child("contractions"))
        sets_reader = root.child("sets")
        self.sets = {
            str(name): Reader(path, words, f"sets.{name}").words()
            for name, words in sets_reader.mapping().items()
        }
        patterns = root.child("patterns")
        self.phrases: dict[str, list[str]] = {}
        self.compiled: dict[str, list[list[dict]]] = {}
        for group in _PATTERN_GROUPS:
            reader = patterns.child(group)
            compiled = []
            for item in reader.items(1):
                phrase = item.text().lower()
                try:
                    compiled.append(compile_phrase(phrase, self.sets))
                except PhraseError as exc:
                    raise item.fail(str(exc)) from exc
            self.phrases[group] = [p.lower() for p in reader.data]
            self.compiled[group] = compiled
        unknown = set(patterns.mapping()) - set(_PATTERN_GROUPS)
        if unknown:
            raise ContentError(path, f"patterns.{sorted(unknown)[0]}", "is not a known group")
        words = root.child("words")
        self.words = {name: set(words.child(name).words()) for name in _WORD_LISTS}

    @staticmethod
    def _read_normalise(reader: Reader) -> dict[str, str]:
        out = {}
        for key, value in reader.mapping().items():
            out[str(key).lower()] = Reader(reader.path, value, f"{reader.key}.{key}").text()
        return out

    @staticmethod
    def _read_contractions(reader: Reader) -> dict[str, list[tuple[set[str], str]]]:
        out: dict[str, list[tuple[set[str], str]]] = {}
        for item in reader.items(1):
            token = item.child("token").text().lower()
            after = set(item.child("after").words())
            norm = item.child("norm").text().lower()
            out.setdefault(token, []).append((after, norm))
        return out


class Assessor:
    """Compiles the patterns into a spaCy ``Matcher`` over the shared pipeline."""

    def __init__(self, nlp: Language, patterns: PatternSet) -> None:
        from spacy.matcher import Matcher

        self.nlp = nlp
        self.p = patterns
        self.matcher = Matcher(nlp.vocab)
        for group, compiled in patterns.compiled.items():
            self.matcher.add(group, compiled, greedy="LONGEST")
        self._lemmas = self._lemma_table(nlp)

    @staticmethod
    def _lemma_table(nlp: Language) -> Any:
        # The lookup table is case-sensitive ("Covering" is not in it): we look up the
        # lower-cased word ourselves so "=cover" matches however the user typed it.
        try:
            return nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        except (KeyError, ValueError):
            return {}

    # -- one reply ------------------------------------------------------------------------

    def assess(self, reply: str, request: str | None = None) -> Assessment:
        text = reply if isinstance(reply, str) else ("" if reply is None else str(reply))
        text = text[:MAX_CHARS]
        if not text.strip():
            return _empty()
        doc = self.nlp(text)
        self._normalise(doc)
        request_words = self._request_words(request if isinstance(request, str) else None)
        return _Reading(self, doc, request_words).assessment()

    def _normalise(self, doc: Doc) -> None:
        prev = ""
        for token in doc:
            norm = token.norm_.lower()
            mapped = self.p.normalise.get(norm) or self.p.normalise.get(token.lower_)
            if mapped:
                norm = mapped
            for after, replacement in self.p.contractions.get(token.lower_, ()):
                if prev in after:
                    norm = replacement
            token.norm_ = norm
            lemma = self._lemmas.get(norm, None) if hasattr(self._lemmas, "get") else None
            token.lemma_ = (lemma or norm).lower()
            prev = norm

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one assessor per process; requests repeat
    def _request_words(self, request: str | None) -> frozenset[str]:
        if not request or not request.strip():
            return frozenset()
        doc = self.nlp(request[:MAX_CHARS])
        self._normalise(doc)
        return frozenset(
            {t.lemma_ for t in doc if t.is_alpha} | {t.norm_ for t in doc if t.is_alpha}
        )


class _Reading:
    """One pass over one parsed reply: matches, clauses, stance events, then the verdict."""

    def __init__(self, assessor: Assessor, doc: Doc, request_words: frozenset[str]) -> None:
        self.a = assessor
        self.w = assessor.p.words
        self.doc = doc
        self.norms = [t.norm_ for t in doc]
        self.request_words = request_words
        self.spans = self._matches()
        self.clause_of, self.clauses = self._clauses()
        self.groups_in: list[set[str]] = [set() for _ in self.clauses]
        for group, spans in self.spans.items():
            for span in spans:
                if 0 <= self.clause_of[span.start]:
                    self.groups_in[self.clause_of[span.start]].add(group)

    # -- matching -------------------------------------------------------------------------

    def _matches(self) -> dict[str, list[_Span]]:
        vocab = self.doc.vocab
        found: dict[str, list[_Span]] = {group: [] for group in _PATTERN_GROUPS}
        for match_id, start, end in self.a.matcher(self.doc):
            group = vocab.strings[match_id]
            found[group].append(_Span(start, end, group))
        for group in found:
            found[group] = _drop_nested(found[group])
        asked, declared = self._split_by_request(found["refusal_unless_asked"])
        found["give_in"] += asked
        found["refusal"] = _without(found["refusal"] + declared, found["not_refusal"])
        found["refusal"] += self._interjection_refusals() + self._not_openers()
        found["refusal"] = _without(_drop_nested(found["refusal"]), found["not_refusal"])
        found["hedge"] = _without(found["hedge"], found["not_hedge"] + found["soft_no"])
        # "I'll see what I can do" is a maybe, not an offer of anything.
        found["offer"] = _without(
            found["offer"], found["refusal"] + found["give_in"] + found["hedge"]
        )
        found["alternative"] = _without(found["alternative"], found["hedge"])
        found["give_in"] = _without(found["give_in"], found["not_give_in"] + found["hostile"])
        return found

    def _split_by_request(self, spans: list[_Span]) -> tuple[list[_Span], list[_Span]]:
        """ "I'll skip it" gives in when the request asked to skip, and refuses otherwise."""
        asked, declared = [], []
        for span in spans:
            key = self.doc[span.end - 1].lemma_
            (asked if key in self.request_words else declared).append(span)
        return asked, declared

    def _interjection_refusals(self) -> list[_Span]:
        out = []
        for i, norm in enumerate(self.norms):
            if norm not in self.w["no_words"]:
                continue
            nxt = self.norms[i + 1] if i + 1 < len(self.norms) else ""
            prev = self.norms[i - 1] if i > 0 else ""
            if nxt in self.w["not_a_no_after"] or prev in self.w["not_a_no_before"]:
                continue
            out.append(_Span(i, i + 1, "refusal"))
        return out

    def _not_openers(self) -> list[_Span]:
        """A clause that opens with "not" refuses: "not this time", "absolutely not"."""
        out = []
        for i, norm in enumerate(self.norms):
            if norm != "not":
                continue
            nxt = self.norms[i + 1] if i + 1 < len(self.norms) else ""
            if nxt in self.w["not_opener_exceptions"]:
                continue
            j = i - 1
            while j >= 0 and self.norms[j] in self.w["no_intensifiers"]:
                j -= 1
            if j < 0 or self._is_break(j):
                out.append(_Span(i, i + 1, "refusal"))
        return out

    # -- clauses --------------------------------------------------------------------------

    def _is_break(self, i: int) -> bool:
        token = self.doc[i]
        if self.norms[i] in self.w["clause_breaks"]:
            return True
        if token.text in _NOT_BREAKS:
            return False
        return token.is_punct or not any(ch.isalnum() for ch in token.text)

    def _clauses(self) -> tuple[list[int], list[tuple[int, int, str]]]:
        """Split on punctuation and linking words; remember the word that opened each clause."""
        clause_of = [-1] * len(self.doc)
        clauses: list[tuple[int, int, str]] = []
        start, opener = 0, ""
        for i in range(len(self.doc) + 1):
            if i == len(self.doc) or self._is_break(i):
                if i > start:
                    for k in range(start, i):
                        clause_of[k] = len(clauses)
                    clauses.append((start, i, opener))
                if i < len(self.doc):
                    norm = self.norms[i]
                    if norm in self.w["clause_breaks"]:
                        opener = norm
                    elif not self.doc[i].is_punct or norm in {".", "!", "?", ";"}:
                        opener = ""
                start = i + 1
        for k in range(len(clause_of)):
            if clause_of[k] == -1:  # a break token belongs to the clause after it
                nxt = next(
                    (clause_of[j] for j in range(k, len(clause_of)) if clause_of[j] >= 0), -1
                )
                clause_of[k] = nxt
        return clause_of, clauses

    def _clause_words(self, index: int) -> list[str]:
        start, end, _ = self.clauses[index]
        return [n for n in self.norms[start:end] if any(ch.isalnum() for ch in n)]

    def _clause_has(self, index: int, groups: tuple[str, ...]) -> bool:
        return not self.groups_in[index].isdisjoint(groups)

    # -- stance ---------------------------------------------------------------------------

    def _give_in_openers(self) -> list[_Span]:
        out = []
        for start, end, _ in self.clauses:
            k = start
            while k < end and self.norms[k] in self.w["fillers"]:
                k += 1
            if k < end and self.norms[k] in self.w["give_in_openers"]:
                nxt = self.norms[k + 1] if k + 1 < len(self.norms) else ""
                if nxt != "not":  # "definitely not" is a no, not a yes
                    out.append(_Span(k, k + 1, "give_in"))
        return out

    def _events(self) -> tuple[list[tuple[int, str]], list[_Span], list[_Span]]:
        """Stance events in reply order, plus offers that turned out to be alternatives.

        Returns (events, alternative spans, hedge spans that still count as hedges).
        """
        give_in = _without(
            _drop_nested(self.spans["give_in"] + self._give_in_openers()),
            self.spans["hostile"] + self.spans["refusal"],
        )
        raw: list[tuple[int, str, _Span]] = []
        raw += [(s.start, "refuse", s) for s in self.spans["refusal"]]
        raw += [(s.start, "give_in", s) for s in give_in]
        raw += [(s.start, "hedge", s) for s in self.spans["hedge"]]
        raw += [(s.start, "offer", s) for s in self.spans["offer"]]
        raw.sort(key=lambda item: (item[0], item[1] != "refuse"))

        alt_clauses = {
            self.clause_of[s.start]
            for s in self.spans["alternative"] + self.spans["alternative_after_no"]
        }
        events: list[tuple[int, str]] = []
        alternatives: list[_Span] = list(self.spans["alternative"])
        hedges: list[_Span] = []
        for pos, kind, span in raw:
            last = events[-1][1] if events else "none"
            clause = self.clause_of[span.start]
            after_no = last == "refuse"
            if kind == "offer":
                kind = self._classify_offer(span, after_no)
                if kind == "alternative":
                    alternatives.append(span)
                    continue
                if kind is None:
                    continue
            if kind == "hedge":
                if after_no and clause in alt_clauses:
                    continue  # "no, but maybe next week": the maybe belongs to the alternative
                hedges.append(span)
            if kind == "give_in" and after_no and not self._caves(span):
                opener = self.clauses[clause][2]
                if clause in alt_clauses or opener in ("but", "though", "although"):
                    alternatives.append(span)
                    continue  # "no speech, but I'll be there" offers something else
            events.append((pos, kind))
            if kind == "refuse":
                for alt in self.spans["alternative_after_no"]:
                    if alt.start > pos and alt not in alternatives:
                        alternatives.append(alt)
        return events, alternatives, hedges

    def _caves(self, span: _Span) -> bool:
        clause = self.clause_of[span.start]
        start, end, opener = self.clauses[clause]
        words = set(self.norms[start:end]) | {opener}
        return bool(words & self.w["cave_markers"])

    def _classify_offer(self, span: _Span, after_no: bool) -> str | None:
        """ "I can do Sunday" after a no offers an alternative; "I'll do it" gives in."""
        verb = self.norms[span.end - 1]
        if verb in self.w["not_offer_verbs"] or not verb.isalpha():
            return None
        if span.start > 0 and self.norms[span.start - 1] in {"what", "if", "whether", "how"}:
            return None  # "see what I can do", "not sure if I can": embedded, not offered
        follow = [n for n in self.norms[span.end : span.end + 4] if n.isalnum()]
        clause_words = set(self._clause_words(self.clause_of[span.start]))
        partial = bool(clause_words & self.w["partial_amount"])
        if after_no and not self._caves(span):
            echo = bool(follow) and follow[0] in {"it", "that", "this"}
            if self.request_words and follow and not partial:
                content = [w for w in follow if w not in {"you", "me", "the", "a", "it", "that"}]
                echo = echo or (bool(content) and all(w in self.request_words for w in content))
            return "give_in" if echo else "alternative"
        return "give_in"

    # -- counting padding -----------------------------------------------------------------

    def _reason_clauses(self, refusal_clauses: set[int]) -> list[int]:
        """Clauses that explain: opened by "because"/"plus", matching a reason pattern, or
        plain statements that are not a no, a sorry, a maybe, an offer or a courtesy."""
        other = ("apology", "softener", "hedge", "soft_no", "give_in", "alternative", "offer")
        other += ("hostile", "courtesy", "alternative_after_no")
        out = []
        for index, (_, _, opener) in enumerate(self.clauses):
            words = self._clause_words(index)
            if len(words) < 2:
                continue
            by_connective = opener in self.w["reason_connectives"] or (
                words[0] in self.w["reason_connectives"]
            )
            if index in refusal_clauses and not by_connective:
                continue
            if by_connective or self._clause_has(index, ("reason",)):
                out.append(index)
            elif len(words) >= 3 and not self._clause_has(index, other):
                if index not in refusal_clauses:
                    out.append(index)
        return out

    def _shouting(self) -> list[str]:
        words = [t for t in self.doc if t.is_alpha and len(t.text) >= 2]
        quiet = self.w["caps_ok"] | self.w["no_words"]  # "NO NO NO" is emphatic, not shouting
        loud = [t.text for t in words if t.text.isupper() and t.norm_ not in quiet]
        if len(loud) >= 2 and len(loud) >= 0.6 * len(words):
            return loud
        return []

    # -- verdict --------------------------------------------------------------------------

    def _with_subject(self, span: _Span) -> _Span:
        """Quote "I can't" rather than "can't": walk back over the subject and adverbs."""
        sets = self.a.p.sets
        start = span.start
        while start > 0 and self.norms[start - 1] in sets["adv"]:
            start -= 1
        if start > 0 and self.norms[start - 1] in {"i", "we"}:
            start -= 1
        end = span.end
        if end - span.start == 1 and self.norms[span.start] == "not":
            # "not this time", not a bare "not" (a clause-opening not, see _not_openers)
            while end < len(self.norms) and end < span.end + 2 and self.doc[end].is_alpha:
                end += 1
        elif self.norms[end - 1] in {"going", "able", "want", "willing"}:
            # "I'm not going to cover", not "I'm not going"
            while end < len(self.norms) and end < span.end + 2 and self.doc[end].is_alpha:
                end += 1
        return _Span(start, end, span.group)

    def _texts(self, spans: list[_Span]) -> list[str]:
        seen: list[str] = []
        for span in sorted(spans, key=lambda s: s.start):
            text = self.doc[span.start : span.end].text
            if text not in seen:
                seen.append(text)
        return seen

    def assessment(self) -> Assessment:
        events, alternatives, hedges = self._events()
        refusals = self.spans["refusal"]
        hostile_words = self._texts(self.spans["hostile"]) + self._shouting()
        apologies = self.spans["apology"]
        soft_no = self.spans["soft_no"]
        refusal_clauses = {self.clause_of[s.start] for s in refusals}
        reasons = self._reason_clauses(refusal_clauses)

        stance = events[-1][1] if events else "none"
        clear_no = bool(refusals)
        n_reasons = len(reasons)
        last_no = max((s.start for s in refusals), default=-1)
        hedges_before = sum(1 for s in hedges + soft_no if s.start < last_no)
        padding = len(apologies) + n_reasons + len(self.spans["softener"]) + hedges_before

        if hostile_words:
            label = "aggressive"
        elif not clear_no or stance in ("give_in", "hedge"):
            label = "passive"
        elif len(apologies) >= 2 or n_reasons >= 2 or padding >= 3:
            label = "partial"
        else:
            label = "assertive"

        evidence = {
            "clear_no": self._texts([self._with_subject(s) for s in refusals]),
            "apology": self._texts(apologies),
            "over_justification": (
                [self.doc[self.clauses[i][0] : self.clauses[i][1]].text for i in reasons]
                if n_reasons >= 2
                else []
            ),
            "hedge": self._texts(hedges + soft_no),
            "alternative_offered": self._texts(alternatives),
            "hostile": hostile_words,
        }
        features = {name: bool(evidence[name]) for name in FEATURES}
        return Assessment(label=label, features=features, evidence=evidence, stance=stance)


def _drop_nested(spans: list[_Span]) -> list[_Span]:
    """Keep the longest of overlapping matches of one group (one apology is one apology)."""
    kept: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def _without(spans: list[_Span], blockers: list[_Span]) -> list[_Span]:
    return [s for s in spans if not any(s.start < b.end and b.start < s.end for b in blockers)]


def _empty() -> Assessment:
    return Assessment(
        label="passive",
        features={name: False for name in FEATURES},
        evidence={name: [] for name in FEATURES},
        stance="none",
    )


@functools.lru_cache(maxsize=1)
def get_assessor() -> Assessor:
    """The process-wide assessor (the pipeline and patterns load on first use)."""
    from bot import spacy_pipeline

    return Assessor(spacy_pipeline.load(), PatternSet())


def assess(reply: str, request: str | None = None) -> Assessment:
    """Assess one reply (optionally with the request it answers). Never raises on odd input."""
    try:
        return get_assessor().assess(reply, request)
    except ContentError:
        raise  # broken content is a deployment error, not odd input
    except Exception:  # noqa: BLE001 - a reply must never crash the conversation
        log.exception("assessor failed on a reply of %d characters", len(str(reply or "")))
        return _empty()
