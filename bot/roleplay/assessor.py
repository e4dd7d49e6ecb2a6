"""How assertive is one reply to a pushy request? Rules over the shared spaCy pipeline, with a
learned second opinion.

The labels follow assertiveness training (DEAR MAN; Manuel Smith's broken record):

- ``aggressive``: any hostility: insults, swearing, threats, shouting, and contempt without a
  rude word (sarcasm, mock praise, scare quotes around their words, a scoffing "Seriously?"),
  blame in the second person ("your deadline isn't my emergency") and complaints about always
  being the one ("Fine. Like I always do.").
- ``passive``: no clear no, or the reply ends on a give-in or a maybe. The *last* stance wins:
  "no I can't... well ok, maybe just this once" is passive. Plain compliance is passive.
- ``partial``: a clear no buried under stacked apologies, reasons or hesitation ("I... I
  don't... no").
- ``assertive``: a clear no, brief and respectful; one short sorry or one short reason is fine,
  and so are acknowledging the other person (GIVE's Validate: "I know it matters to you. I'm
  still not coming") and negotiating (DEAR MAN's Negotiate: "which job could I drop?").

Decisions worth knowing: "I'd rather not" / "I'd prefer not to" is a soft but clear no;
"I don't think so", "I don't think I can" and "probably not" are maybes (hedges), not a no;
an excuse on its own ("money's tight") is not a no; "maybe next week" after a no is an
alternative, not a hedge; acknowledging them, asking, and negotiating are never counted as
excuses. Patterns live in ``data/roleplay/assessor_patterns.yml``.

Every feature comes with the words behind it (``Assessment.evidence``), so the coach can quote
them and never calls a reply aggressive without naming what made it so. The rules are the
default voice; the learned layer (``bot.roleplay.learned``) overrules their label only where it
is very sure, and then names the sentence that decided it. Same input, same verdict.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.roleplay.content import CONTENT_DIR, ContentError, Reader, read_yaml
from bot.roleplay.phrases import PhraseError, compile_phrase

if TYPE_CHECKING:  # spaCy imports TensorFlow through thinc: only load it when assessing.
    from spacy.language import Language
    from spacy.tokens import Doc

    from bot.roleplay.learned import LayerReading, RoleplayLayer

log = logging.getLogger(__name__)

LABELS = ("assertive", "passive", "aggressive", "partial")
FEATURES = (
    "clear_no",
    "apology",
    "over_justification",
    "hedge",
    "alternative_offered",
    "hostile",
    "validation",
    "negotiates",
    "gives_in",
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
    "contempt",
    "blame",
    "always_me",
    "validation",
    "negotiate",
    "courtesy",
)
_PADDING_FEATURES = ("apology", "over_justification", "hedge")
# Every group that makes a reply hostile; the evidence names which words.
_HOSTILE_GROUPS = ("hostile", "contempt", "blame", "always_me")
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
    "scorn_openers",
    "agreeing_openers",
    "scorn_marks",
)
# Words held up in quotation marks ("easy", "for the kids"): a short quote is a jab.
_QUOTED_RE = re.compile(
    r'["“”]([^"“”\n]{1,80})["“”]'
    # 'single quotes' too, told from apostrophes: the opening one follows a space or the start.
    r"|(?:^|(?<=[\s(]))['‘]((?:[^'‘’\n]|['’](?=[a-z]))+?)['’](?=[\s.,!?;:)]|$)"
)
_QUOTE_MAX_WORDS = 8
# Tokens that are not words but are not clause breaks either ("$300", "50%", "R&D").
_NOT_BREAKS = {"$", "£", "€", "%", "&", "'", "’", "#", "@"}


@dataclass(frozen=True)
class Assessment:
    """The verdict on one reply: a label, the features, and the words behind each feature.

    ``stance`` is the last stance taken in the reply (``refuse``, ``give_in``, ``hedge`` or
    ``none``): the engine uses it to tell a give-in from a maybe. ``overruled`` says the learned
    layer changed the rules' label (``layer`` holds its reading, when it ran).
    """

    label: str
    features: dict[str, bool]
    evidence: dict[str, list[str]] = field(default_factory=dict)
    stance: str = "none"
    overruled: bool = False
    layer: LayerReading | None = None
    # Each clause's words and what it does ("no", "sorry", "excuse", "jab", ...): the
    # material the debrief rewrites the user's weakest reply from. Never in to_dict.
    clauses: tuple[tuple[str, frozenset[str]], ...] = ()

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

    def __init__(
        self, nlp: Language, patterns: PatternSet, layer: RoleplayLayer | None = None
    ) -> None:
        from spacy.matcher import Matcher

        self.nlp = nlp
        self.p = patterns
        self.layer = layer
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
        """The rules' verdict, overruled by the learned layer where it is very sure."""
        rule = self.assess_rules(reply, request)
        text = _text_of(reply)
        if self.layer is None or not text.strip():
            return rule
        try:
            reading = self.layer.read(text, _vector(text))
        except Exception:
            log.exception("the learned layer failed on a reply of %d characters", len(text))
            return rule
        avoid = rule.evidence.get("clear_no", [])
        return combine(rule, reading, lambda label: self.layer.key_sentence(text, label, avoid))

    def assess_rules(self, reply: str, request: str | None = None) -> Assessment:
        """The verdict of the rules alone, every feature with the words behind it."""
        text = _text_of(reply)
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
        found["soft_no"] = _without(found["soft_no"], found["not_hedge"])
        found["negotiate"] = [s for s in found["negotiate"] if self._negotiates(s)]
        # "I'll see what I can do" is a maybe, not an offer of anything.
        found["offer"] = _without(
            found["offer"],
            found["refusal"] + found["give_in"] + found["hedge"] + found["soft_no"],
        )
        found["alternative"] = _without(found["alternative"], found["hedge"])
        hostile = [span for group in _HOSTILE_GROUPS for span in found[group]]
        found["give_in"] = _without(found["give_in"], found["not_give_in"] + hostile)
        return found

    def _negotiates(self, span: _Span) -> bool:
        """ "How could I refuse" and "if I don't" set no terms."""
        before = self.norms[span.start - 1] if span.start > 0 else ""
        after = self.norms[span.end] if span.end < len(self.norms) else ""
        return before not in {"how", "what", "why"} and after != "not"

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
                if nxt == "not":  # "definitely not" is a no, not a yes
                    continue
                if self.norms[k] in self.w["agreeing_openers"] and self._agrees_only(k):
                    continue
                out.append(_Span(k, k + 1, "give_in"))
        return out

    def _agrees_only(self, position: int) -> bool:
        """ "Yeah, I know" or "Oh sure, ..." with a no after it or a jab in the reply: a nod to
        what they said (or a sneer), not a yes to the ask."""
        if any(s.start > position for s in self.spans["refusal"]):
            return True
        return any(self.spans[group] for group in _HOSTILE_GROUPS)

    def _events(self) -> tuple[list[tuple[int, str, _Span]], list[_Span], list[_Span]]:
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
        events: list[tuple[int, str, _Span]] = []
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
                if self._clause_has(clause, _HOSTILE_GROUPS):
                    continue  # "maybe plan better next time" is a jab, not a maybe
                if after_no and clause in alt_clauses:
                    continue  # "no, but maybe next week": the maybe belongs to the alternative
                if after_no and self._suggestion(clause, span):
                    continue  # "I can't. Maybe Priya's mum?" points elsewhere, it is no maybe
                hedges.append(span)
            if kind == "give_in" and after_no and not self._caves(span):
                opener = self.clauses[clause][2]
                if clause in alt_clauses or opener in ("but", "though", "although"):
                    alternatives.append(span)
                    continue  # "no speech, but I'll be there" offers something else
            events.append((pos, kind, span))
            if kind == "refuse":
                for alt in self.spans["alternative_after_no"]:
                    if alt.start > pos and alt not in alternatives:
                        alternatives.append(alt)
        return events, alternatives, hedges

    def _clause_has_hedge(self, span: _Span) -> bool:
        clause = self.clause_of[span.start]
        return any(self.clause_of[h.start] == clause for h in self.spans["hedge"])

    def _suggestion(self, clause: int, span: _Span) -> bool:
        """A question about someone else ("Maybe Priya's mum?"), not about the user's yes."""
        words = self._clause_words(clause)
        first_person = {"i", "me", "my", "we", "us", "our"}
        return len(words) >= 2 and not first_person & set(words) and self._in_question(span.start)

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
        if not after_no and (
            "could" in self.norms[span.start : span.end] or self._clause_has_hedge(span)
        ):
            return "hedge"  # "I guess I could leave early", "maybe I could pop in": a maybe
        if after_no and not self._caves(span):
            if self._after_if(span.start):
                return "alternative"  # "if something comes off my plate, I can pick it up"
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
        other += ("courtesy", "alternative_after_no", *_HOSTILE_GROUPS)
        # Acknowledging them, negotiating or a jab is not an excuse, even if it reads like one.
        not_reasons = ("validation", "negotiate", "courtesy", *_HOSTILE_GROUPS)
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
            if self._clause_has(index, not_reasons) or self._asks(index):
                continue  # "If I take two, could you find someone?" asks, it does not excuse
            if words[0] == "you" or (words[0] in self.w["fillers"] and words[1:2] == ["you"]):
                continue  # "so you can plan without me" is about them, not an excuse
            if by_connective or self._clause_has(index, ("reason",)):
                out.append(index)
            elif len(words) >= 3 and not self._clause_has(index, other):
                if index not in refusal_clauses:
                    out.append(index)
        return out

    def _after_if(self, position: int) -> bool:
        """Whether an "if" comes earlier in the same sentence."""
        for i in range(position - 1, -1, -1):
            if self.norms[i] in {".", "!", "?", "\n"} or self.norms[i].startswith(".."):
                return False
            if self.norms[i] == "if":
                return True
        return False

    def _asks(self, index: int) -> bool:
        """A clause that asks ("could you find someone?") or sets the terms of a question."""
        start, end, opener = self.clauses[index]
        if end < len(self.doc) and "?" in self.doc[end].text:
            return True
        words = self._clause_words(index)
        return (opener == "if" or words[:1] == ["if"]) and self._in_question(start)

    def _in_question(self, position: int) -> bool:
        """Whether the sentence holding this token ends with a question mark."""
        for token in self.doc[position:]:
            if token.text in {".", "!", "\n"} or token.text.startswith(".."):
                return False
            if "?" in token.text:
                return True
        return False

    def _shouting(self) -> list[str]:
        words = [t for t in self.doc if t.is_alpha and len(t.text) >= 2]
        caps = [t for t in words if t.text.isupper() and t.norm_ not in self.w["caps_ok"]]
        # "NO NO NO" is emphatic, not shouting: two loud words besides the no are needed.
        loud = [t.text for t in caps if t.norm_ not in self.w["no_words"]]
        if len(loud) >= 2 and len(caps) >= 0.6 * len(words):
            return [t.text for t in caps]
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

    def _scare_quotes(self) -> list[tuple[str, _Span | None]]:
        """ "Easy", "for me", "reliable": the other person's words held up in quotation marks."""
        out = []
        for match in _QUOTED_RE.finditer(self.doc.text):
            inner = (match.group(1) or match.group(2) or "").strip()
            if inner and len(inner.split()) <= _QUOTE_MAX_WORDS:
                tokens = self.doc.char_span(match.start(), match.end(), alignment_mode="expand")
                span = _Span(tokens.start, tokens.end, "contempt") if tokens is not None else None
                out.append((match.group(0), span))
        return out

    def _clause_tags(
        self,
        events: list[tuple[int, str, _Span]],
        alternatives: list[_Span],
        hostile: list[_Span],
        reasons: list[int],
    ) -> tuple[tuple[str, frozenset[str]], ...]:
        """Each clause's words and what it does: the material the debrief's rewrite uses."""
        tags: list[set[str]] = [set() for _ in self.clauses]

        def tag(spans: list[_Span], name: str) -> None:
            for span in spans:
                for i in range(span.start, span.end):
                    if 0 <= self.clause_of[i] < len(tags):
                        tags[self.clause_of[i]].add(name)

        event_names = {"refuse": "no", "give_in": "yes", "hedge": "maybe"}
        for _, kind, span in events:
            tag([span], event_names.get(kind, kind))
        tag(self.spans["refusal"], "no")
        tag(self.spans["soft_no"], "maybe")
        tag(self.spans["apology"] + self.spans["softener"], "sorry")
        tag(alternatives, "alternative")
        tag(self.spans["validation"], "validation")
        tag(self.spans["negotiate"], "negotiate")
        tag(hostile, "jab")
        for index in reasons:
            tags[index].add("excuse")
        return tuple(
            (self.doc[start:end].text, frozenset(tags[index]))
            for index, (start, end, _) in enumerate(self.clauses)
        )

    def _scorn_openers(self) -> list[_Span]:
        """A sentence that opens with a scoffing word ("Seriously?", "Wow,", "lol")."""
        out = []
        for i, norm in enumerate(self.norms):
            if norm not in self.w["scorn_openers"]:
                continue
            after = [n for n in self.norms[i + 1 : i + 4] if n != ","]
            if after[:1] in (["thanks"], ["thank"]) and after[1:2] in ([], ["."], ["!"], ["you"]):
                continue  # "oh wow, thanks!" is pleased; "wow, thanks for asking" is not
            k = i - 1
            while k >= 0 and self.norms[k] in self.w["fillers"] and self.norms[k] != norm:
                k -= 1
            if k < 0 or self.norms[k] in {".", "!", "?", "...", "…", "\n"}:
                out.append(_Span(i, i + 1, "contempt"))
        return out

    def _scorn_marks(self) -> list[_Span]:
        return [
            _Span(i, i + 1, "contempt")
            for i, t in enumerate(self.doc)
            if any(mark in t.text for mark in self.w["scorn_marks"])
        ]

    def _hesitations_before(self, position: int) -> list[_Span]:
        """Words trailing off before the no ("I... I don't... no"): hesitation, not a pause.

        Each span is the fragment before the dots, dots included ("I don't...").
        """
        out = []
        start = 0
        for i, t in enumerate(self.doc):
            if i >= position:
                break
            if t.text.startswith("..") or t.text.startswith("…"):
                first = max(start, i - 3)
                out.append(_Span(first, i + 1, "hedge"))
                start = i + 1
            elif self.norms[i] in {".", "!", "?", ","}:
                start = i + 1
        return out

    def assessment(self) -> Assessment:
        events, alternatives, hedges = self._events()
        refusals = self.spans["refusal"]
        hostile_spans = [span for group in _HOSTILE_GROUPS for span in self.spans[group]]
        hostile_spans += self._scorn_openers() + self._scorn_marks()
        hostile_words = self._texts(_joined(hostile_spans))
        quotes = self._scare_quotes()
        hostile_words += [text for text, _ in quotes] + self._shouting()
        hostile_spans += [span for _, span in quotes if span is not None]
        apologies = self.spans["apology"]
        soft_no = self.spans["soft_no"]
        refusal_clauses = {self.clause_of[s.start] for s in refusals}
        reasons = self._reason_clauses(refusal_clauses)

        stance = events[-1][1] if events else "none"
        clear_no = bool(refusals)
        n_reasons = len(reasons)
        last_no = max((s.start for s in refusals), default=-1)
        hedges_before = sum(1 for s in hedges + soft_no if s.start < last_no)
        hesitations_seen = self._hesitations_before(last_no)
        hesitations = len(hesitations_seen)
        reason_clauses = set(reasons)
        alternatives = [
            a
            for a in alternatives
            if not (a.group == "alternative_after_no" and self.clause_of[a.start] in reason_clauses)
        ]
        padding = (
            len(apologies) + n_reasons + len(self.spans["softener"]) + hedges_before + hesitations
        )

        if hostile_words:
            label = "aggressive"
        elif not clear_no or stance in ("give_in", "hedge"):
            label = "passive"
        elif len(apologies) >= 2 or n_reasons >= 2 or padding >= 3 or hesitations >= 2:
            label = "partial"
        else:
            label = "assertive"

        # A yes counts when no later no takes it back ("I'll bake, but I'm not running it").
        last_refusal = max((pos for pos, kind, _ in events if kind == "refuse"), default=-1)
        give_ins = [span for pos, kind, span in events if kind == "give_in" and pos > last_refusal]
        evidence = {
            "clear_no": self._texts([self._with_subject(s) for s in refusals]),
            "apology": self._texts(apologies),
            # Reasons pile up only under a no that is buried or missing: beside a jab or a
            # clean no the extra sentences are something else (an offer, a dig).
            "over_justification": (
                [self.doc[self.clauses[i][0] : self.clauses[i][1]].text for i in reasons]
                if n_reasons >= 2 and label in ("partial", "passive")
                else []
            ),
            "hedge": self._texts(hedges + soft_no),
            "alternative_offered": self._texts(alternatives),
            "hostile": hostile_words,
            "validation": self._texts(self.spans["validation"]),
            "negotiates": self._texts(self.spans["negotiate"]),
            "gives_in": self._texts(give_ins),
        }
        features = {name: bool(evidence[name]) for name in FEATURES}
        clauses = self._clause_tags(events, alternatives, hostile_spans, reasons)
        return Assessment(label, features, evidence, stance, clauses=clauses)


def combine(
    rule: Assessment,
    reading: LayerReading | None,
    key_sentence: Callable[[str], str | None] | None = None,
) -> Assessment:
    """The rules' verdict, unless the learned layer is sure of another label.

    When the layer overrules, the features follow the label (aggressive iff hostile; an
    assertive or partial reply holds a clear no), and where the rules found no words for them,
    ``key_sentence(label)`` names the sentence that weighed most towards the new label.
    """
    if reading is None or not reading.confident or reading.label == rule.label:
        return replace(rule, layer=reading)
    if not _may_move(rule, reading.label):
        return replace(rule, layer=reading)
    label = reading.label
    features = dict(rule.features)
    evidence = {name: list(words) for name, words in rule.evidence.items()}

    def named(name: str) -> None:
        features[name] = True
        if not evidence.get(name) and key_sentence is not None:
            sentence = key_sentence(label)
            evidence[name] = [sentence] if sentence else []

    if label in ("assertive", "aggressive"):
        features["over_justification"], evidence["over_justification"] = False, []
    if label == "aggressive":
        named("hostile")
    elif features["hostile"]:
        features["hostile"], evidence["hostile"] = False, []
    stance = rule.stance
    if label in ("assertive", "partial"):
        if not features["clear_no"]:
            named("clear_no")
        stance = "refuse"
    return Assessment(
        label, features, evidence, stance, overruled=True, layer=reading, clauses=rule.clauses
    )


def _may_move(rule: Assessment, label: str) -> bool:
    """The layer moves a label only where the rules see something to point to.

    A no is "buried" only under a sorry, a maybe or stacked reasons ("No, I can't, I'm working
    that day." stays a clean no), and a no the rules heard becomes passive only beside a maybe
    or a yes. A reply is aggressive only with words besides its no to name. Sarcasm and a
    refusal in words the rules do not know are what the layer is for: those moves are free
    otherwise, and the sentence behind them is named.
    """
    f = rule.features
    if label == "aggressive" and rule.clauses:
        # Something besides the no itself must be there to name: a bare "No." is no attack.
        return any("no" not in tags and re.search(r"\w", text) for text, tags in rule.clauses)
    if rule.label == "assertive" and label == "partial":
        return any(f[name] for name in _PADDING_FEATURES)
    if rule.label in ("assertive", "partial") and label == "passive":
        return f["hedge"] or f["gives_in"] or not f["clear_no"]
    return True


def _text_of(reply: Any) -> str:
    text = reply if isinstance(reply, str) else ("" if reply is None else str(reply))
    return text[:MAX_CHARS]


def _vector(text: str) -> Any:
    """The shared encoder's vector (cached there, so every reader of a message shares it)."""
    from bot import encoder

    return encoder.embed(text)


def _drop_nested(spans: list[_Span]) -> list[_Span]:
    """Keep the longest of overlapping matches of one group (one apology is one apology)."""
    kept: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def _joined(spans: list[_Span]) -> list[_Span]:
    """Overlapping or touching spans as one ("you're being" + "ridiculous")."""
    out: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if out and span.start <= out[-1].end:
            out[-1] = _Span(out[-1].start, max(out[-1].end, span.end), out[-1].group)
        else:
            out.append(span)
    return out


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
    """The process-wide assessor (the pipeline, patterns and learned layer load on first use).

    Without the layer's file (``make model`` builds it) or the encoder, the rules work alone,
    and the log says so once.
    """
    from bot import spacy_pipeline
    from bot.roleplay.learned import default_layer

    layer = default_layer()
    if layer is not None:
        try:
            _vector("no")  # loads the encoder now, not in the middle of a conversation
        except Exception as exc:
            log.error("The role-play assessor runs on its rules only: %s", exc)
            layer = None
    return Assessor(spacy_pipeline.load(), PatternSet(), layer)


def assess(reply: str, request: str | None = None) -> Assessment:
    """Assess one reply (optionally with the request it answers). Never raises on odd input."""
    try:
        return get_assessor().assess(reply, request)
    except ContentError:
        raise  # broken content is a deployment error, not odd input
    except Exception:
        log.exception("assessor failed on a reply of %d characters", len(str(reply or "")))
        return _empty()
