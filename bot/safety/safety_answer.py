"""Reading a typed reply to "Are you safe right now?".

After the crisis resources the bot asks that question with two buttons, but a keyboard or
screen-reader user, or anyone on a phone, often just types "no", "not really" or "idk". That
reply must be read as an answer to the question, whatever the NLU makes of it: a "no" read as
a plain "no" once got "That's fine" and the menu. The policy
``bot.policies.safety_question`` asks this module what the reply means.

Deterministic and auditable: word lists in ``data/safety/safety_answers.yml`` (how they combine
is written there), the crisis normaliser for spelling, and one-letter typo tolerance for the
longer words. Errs towards "not safe": uncertainty, silence and distress all read as not safe,
and a mixed reply is asked again rather than guessed.

The same reader answers the check-in question ("are you thinking about suicide or ending your
life?", ``bot.policies.check_in``) with ``Polarity.YES_MEANS_RISK``: its bare yes and no words
turn around, so ``NOT_SAFE`` then means "risk" and ``SAFE`` "no risk said".
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.safety import normalize as normalize_module
from bot.safety import yaml_data

DEFAULT_ANSWERS_PATH = yaml_data.DATA_DIR / "safety_answers.yml"
# Longer replies are read too (the answer is often at the end), but only this much of them.
MAX_READ_CHARS = 2000
_WORD_RE = re.compile(r"[^\W_]+")


class SafetyAnswer(enum.Enum):
    SAFE = "safe"
    NOT_SAFE = "not_safe"
    UNCLEAR = "unclear"


class Polarity(enum.Enum):
    """What a bare "yes" says to the open question."""

    YES_MEANS_SAFE = "yes_means_safe"  # "Are you safe right now?"
    YES_MEANS_RISK = "yes_means_risk"  # the check-in: "are you thinking about suicide?"


@dataclass(frozen=True)
class Reading:
    """What a reply was read as, and why (for tests and the evaluation, never logged)."""

    answer: SafetyAnswer
    reason: str


PHRASE_LABELS = ("safe", "not_safe", "distress", "uncertain")
# A clause and the punctuation that ends it (to tell a question from an answer).
_CLAUSE_RE = re.compile(r"([^.,;:!?\n]*)([.,;:!?\n]*)")
# Skin tones, variation selectors and joiners change how an emoji looks, not what it says.
_EMOJI_MODIFIERS_RE = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f\u200d]")


@dataclass(frozen=True)
class AnswerVocabulary:
    """The validated content of ``safety_answers.yml``, as word tuples."""

    whole_reply: dict[tuple[str, ...], SafetyAnswer]
    phrases: dict[tuple[str, ...], str]  # words -> one of PHRASE_LABELS
    negations: frozenset[tuple[str, ...]]
    negation_stops: frozenset[str]
    distress_turn_reach: int
    clause_breaks: frozenset[str]
    question_openers: tuple[tuple[str, ...], ...]
    doubt_markers: tuple[tuple[str, ...], ...]
    doubt_symbols: frozenset[str]
    ignored: tuple[tuple[str, ...], ...]
    safe_symbols: frozenset[str]
    unclear_symbols: frozenset[str]
    longest_phrase: int
    # The check-in question's polarity: yes/no words that turn, phrases that admit the thoughts.
    turned: frozenset[tuple[str, ...]] = frozenset()
    admits: frozenset[tuple[str, ...]] = frozenset()

    def typo_targets(self) -> frozenset[str]:
        words = {w for phrase in self.phrases for w in phrase}
        words.update(w for phrase in self.whole_reply for w in phrase)
        words.update(w for phrase in self.admits for w in phrase)
        return frozenset(w for w in words if len(w) >= 3 and w.isalpha())

    def phrases_for(self, polarity: Polarity) -> dict[tuple[str, ...], str]:
        """The phrase table for a question: the check-in's admissions read as distress."""
        if polarity is Polarity.YES_MEANS_SAFE or not self.admits:
            return self.phrases
        return {**self.phrases, **dict.fromkeys(self.admits, "distress")}


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD_RE.findall(normalize_module.normalize(text)))


def _phrase_list(raw: object, path: Path, key: str) -> list[tuple[str, ...]]:
    phrases = []
    for index, item in enumerate(yaml_data.require_list(raw, path, key)):
        text = yaml_data.require_text(item, path, f"{key}[{index}]")
        words = _words(text)
        if not words:
            raise yaml_data.SafetyDataError(path, f"{key}[{index}]", "has no words")
        phrases.append(words)
    return phrases


def _symbols(raw: object, path: Path, key: str) -> frozenset[str]:
    return frozenset(
        yaml_data.require_text(s, path, f"{key}[{i}]")
        for i, s in enumerate(yaml_data.require_list(raw, path, key))
    )


def load_vocabulary(path: Path = DEFAULT_ANSWERS_PATH) -> AnswerVocabulary:
    """Load and validate the answer word lists; errors name the file and the key."""
    path = Path(path)
    data = yaml_data.load_mapping(
        path,
        {
            "whole_reply",
            "phrases",
            "negations",
            "negation_stops",
            "distress_turn_reach",
            "clause_breaks",
            "question_openers",
            "doubt_markers",
            "doubt_symbols",
            "ignored",
            "safe_symbols",
            "unclear_symbols",
            "check_in",
        },
    )

    whole: dict[tuple[str, ...], SafetyAnswer] = {}
    raw_whole = yaml_data.require_keys(
        data.get("whole_reply"), {a.value for a in SafetyAnswer}, path, "whole_reply"
    )
    for label, raw in raw_whole.items():
        for words in _phrase_list(raw, path, f"whole_reply.{label}"):
            if words in whole and whole[words].value != label:
                raise yaml_data.SafetyDataError(
                    path, f"whole_reply.{label}", f"{' '.join(words)!r} twice"
                )
            whole[words] = SafetyAnswer(label)

    phrases: dict[tuple[str, ...], str] = {}
    raw_phrases = yaml_data.require_keys(data.get("phrases"), set(PHRASE_LABELS), path, "phrases")
    for label, raw in raw_phrases.items():
        for words in _phrase_list(raw, path, f"phrases.{label}"):
            if words in phrases and phrases[words] != label:
                raise yaml_data.SafetyDataError(
                    path, f"phrases.{label}", f"{' '.join(words)!r} is also {phrases[words]}"
                )
            phrases[words] = label

    breaks = _phrase_list(data.get("clause_breaks"), path, "clause_breaks")
    stops = _phrase_list(data.get("negation_stops"), path, "negation_stops")
    for key, words in (("clause_breaks", breaks), ("negation_stops", stops)):
        if any(len(w) != 1 for w in words):
            raise yaml_data.SafetyDataError(path, key, "one word each")
    reach = data.get("distress_turn_reach")
    if not isinstance(reach, int) or not 1 <= reach <= 6:
        raise yaml_data.SafetyDataError(path, "distress_turn_reach", "a whole number from 1 to 6")
    turned, admits = _load_check_in(data.get("check_in"), path, whole, phrases)
    return AnswerVocabulary(
        whole_reply=whole,
        phrases=phrases,
        negations=frozenset(_phrase_list(data.get("negations"), path, "negations")),
        negation_stops=frozenset(w[0] for w in stops),
        distress_turn_reach=reach,
        clause_breaks=frozenset(b[0] for b in breaks),
        question_openers=tuple(
            _phrase_list(data.get("question_openers"), path, "question_openers")
        ),
        doubt_markers=tuple(_phrase_list(data.get("doubt_markers"), path, "doubt_markers")),
        doubt_symbols=_symbols(data.get("doubt_symbols"), path, "doubt_symbols"),
        ignored=tuple(_phrase_list(data.get("ignored"), path, "ignored")),
        safe_symbols=_symbols(data.get("safe_symbols"), path, "safe_symbols"),
        unclear_symbols=_symbols(data.get("unclear_symbols"), path, "unclear_symbols"),
        longest_phrase=max(len(p) for p in [*phrases, *admits]),
        turned=turned,
        admits=admits,
    )


def _load_check_in(
    raw: object,
    path: Path,
    whole: dict[tuple[str, ...], SafetyAnswer],
    phrases: dict[tuple[str, ...], str],
) -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """``check_in.turned`` must name yes/no entries of the lists; ``admits`` must be new."""
    data = yaml_data.require_keys(raw, {"turned", "admits"}, path, "check_in")
    turned = _phrase_list(data.get("turned"), path, "check_in.turned")
    for index, words in enumerate(turned):
        label = phrases.get(words) or (whole[words].value if words in whole else None)
        if label not in ("safe", "not_safe"):
            raise yaml_data.SafetyDataError(
                path,
                f"check_in.turned[{index}]",
                f"{' '.join(words)!r} is not a safe or not_safe entry of whole_reply or phrases",
            )
    admits = _phrase_list(data.get("admits"), path, "check_in.admits")
    for index, words in enumerate(admits):
        if words in turned:
            raise yaml_data.SafetyDataError(
                path, f"check_in.admits[{index}]", f"{' '.join(words)!r} is also turned"
            )
    return frozenset(turned), frozenset(admits)


def _one_edit_apart(a: str, b: str) -> bool:
    """One substitution, insertion, deletion or swap of neighbours."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class SafetyAnswerReader:
    """Reads replies with one vocabulary; ``known_word`` keeps real words from being 'fixed'."""

    def __init__(
        self,
        vocabulary: AnswerVocabulary,
        known_word: Callable[[str], bool] | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.known_word = known_word or (lambda word: False)
        self._targets = vocabulary.typo_targets()
        self._phrases = {polarity: vocabulary.phrases_for(polarity) for polarity in Polarity}
        self._targets_by_first: dict[str, tuple[str, ...]] = {}
        for word in sorted(self._targets):
            self._targets_by_first.setdefault(word[0], ())
            self._targets_by_first[word[0]] += (word,)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one reader per process, bounded cache
    def _spelled(self, word: str) -> str:
        if word in self._targets or len(word) < 3 or not word.isalpha() or self.known_word(word):
            return word
        # Three-letter words only by a swap ("nto"); longer ones by any single edit.
        candidates = [
            t
            for t in self._targets
            if abs(len(t) - len(word)) <= 1
            and (len(word) >= 4 or len(t) == len(word))
            and (len(t) >= 4 or sorted(t) == sorted(word))
            and _one_edit_apart(word, t)
        ]
        # A swap of neighbours is the commonest slip on a phone: "fien" is "fine", not "bien".
        swaps = [t for t in candidates if sorted(t) == sorted(word)]
        if len(swaps) == 1:
            return swaps[0]
        return candidates[0] if len(candidates) == 1 else word

    def read(self, text: str, polarity: Polarity = Polarity.YES_MEANS_SAFE) -> Reading:
        """What ``text`` says about the user's safety right now, as an answer to a question
        whose "yes" means what ``polarity`` says (``NOT_SAFE`` is always the risky reading)."""
        vocab = self.vocabulary
        turn = polarity is Polarity.YES_MEANS_RISK
        normalised = normalize_module.normalize((text or "")[:MAX_READ_CHARS])
        # (words, is a question) for each clause; "am i safe?? no" asks, then answers.
        clauses: list[tuple[list[str], bool]] = []
        for part, end in _CLAUSE_RE.findall(normalised):
            asked = "?" in end
            for words in self._split_at_breaks(self._clause_words(part)):
                clauses.append((words, asked))
        words = [w for clause, _ in clauses for w in clause]
        if not words:
            if _WORD_RE.search(normalised):
                return Reading(SafetyAnswer.UNCLEAR, "only words said in passing")
            reading = self._read_symbols(normalised)
            if turn and reading.answer is SafetyAnswer.SAFE:
                # A smile says nothing about thoughts of suicide.
                return Reading(SafetyAnswer.UNCLEAR, "a symbol that does not answer the check-in")
            return reading
        whole = vocab.whole_reply.get(tuple(words))
        if whole is not None:
            if turn and tuple(words) in vocab.turned:
                return Reading(_TURNED_ANSWER[whole], "the whole reply, turned")
            return Reading(whole, "the whole reply")
        if len(clauses) == 1 and _starts_with_any(words, vocab.question_openers):
            clauses = [(words, True)]

        per_clause = [
            {
                s
                for s in self._signals(clause, polarity)
                if not asked or s in ("distress", "uncertain")
            }
            for clause, asked in clauses
        ]
        found = set().union(*per_clause)
        doubt = any(_contains(words, m) for m in vocab.doubt_markers) or any(
            s in normalised for s in vocab.doubt_symbols
        )

        if "uncertain" in found:
            return Reading(SafetyAnswer.NOT_SAFE, "unsure counts as not safe")
        if "distress" in found and "safe" not in found:
            return Reading(SafetyAnswer.NOT_SAFE, "tells of danger or distress")
        if ("not_safe" in found or "distress" in found) and "safe" in found:
            return self._read_mixed(per_clause)
        if "not_safe" in found:
            return Reading(SafetyAnswer.NOT_SAFE, "says not safe")
        if "safe" in found:
            if doubt:
                return Reading(SafetyAnswer.UNCLEAR, "safe, with a shrug or irony")
            return Reading(SafetyAnswer.SAFE, "says safe")
        if any(asked for _, asked in clauses):
            return Reading(SafetyAnswer.UNCLEAR, "a question back")
        return Reading(SafetyAnswer.UNCLEAR, "no answer recognised")

    @staticmethod
    def _read_mixed(per_clause: list[set[str]]) -> Reading:
        """Both kinds of signal: people tell the story first and answer at the end.

        A last answer of "no" or danger is taken as it is. A last "yes" is taken only when what
        came before was the story (danger words), not a "no": "no. im fine" is asked again.
        """
        answered = [signals for signals in per_clause if signals]
        last = answered[-1]
        if len(last) == 1 and last <= {"not_safe", "distress"}:
            return Reading(SafetyAnswer.NOT_SAFE, "answers no at the end")
        earlier = set().union(*answered[:-1])
        if last == {"safe"} and "not_safe" not in earlier:
            return Reading(SafetyAnswer.SAFE, "tells what happened, then answers yes")
        return Reading(SafetyAnswer.UNCLEAR, "mixed: says both")

    def _clause_words(self, part: str) -> list[str]:
        words = [self._spelled(w) for w in _WORD_RE.findall(part)]
        for phrase in self.vocabulary.ignored:
            words = _drop(words, phrase)
        return words

    def _split_at_breaks(self, words: list[str]) -> list[list[str]]:
        clauses: list[list[str]] = [[]]
        for word in words:
            if word in self.vocabulary.clause_breaks:
                clauses.append([])
            else:
                clauses[-1].append(word)
        return [c for c in clauses if c]

    def _read_symbols(self, normalised: str) -> Reading:
        vocab = self.vocabulary
        normalised = _EMOJI_MODIFIERS_RE.sub("", normalised)
        rest = "".join(c for c in normalised if not c.isspace())
        for symbol in sorted(vocab.safe_symbols | vocab.unclear_symbols, key=len, reverse=True):
            rest = rest.replace(symbol, "")
        if normalised.strip() and not rest:
            if any(s in normalised for s in vocab.unclear_symbols):
                return Reading(SafetyAnswer.UNCLEAR, "a symbol that may only mean 'seen'")
            return Reading(SafetyAnswer.SAFE, "a reassuring symbol")
        return Reading(SafetyAnswer.NOT_SAFE, "no words: silence-like")

    def _signals(self, words: list[str], polarity: Polarity) -> Iterable[str]:
        """The labels of the phrases in one clause; a negation before a phrase turns it around,
        and so does a question whose yes means risk, for its yes and no words."""
        vocab = self.vocabulary
        turn = polarity is Polarity.YES_MEANS_RISK
        phrases = self._phrases[polarity]
        negated_at: int | None = None  # where the negation waiting for a phrase ended
        bare_negation = False
        i = 0
        while i < len(words):
            for size in range(min(vocab.longest_phrase, len(words) - i), 0, -1):
                phrase = tuple(words[i : i + size])
                label = phrases.get(phrase)
                if label is None:
                    continue
                if negated_at is not None:
                    near = i - negated_at < vocab.distress_turn_reach
                    if label == "safe" or (label == "distress" and near):
                        label = _TURNED[label]
                    negated_at = None
                if turn and phrase in vocab.turned:
                    label = _TURNED_YES_NO[label]
                yield label
                i += size
                break
            else:
                negation = next(
                    (n for n in vocab.negations if tuple(words[i : i + len(n)]) == n), None
                )
                if negation is not None:
                    if negated_at is not None:  # "not not": the two cancel out
                        negated_at = None
                    else:
                        negated_at = i + len(negation)
                    i += len(negation)
                    if (
                        negated_at is not None
                        and i < len(words)
                        and words[i] in vocab.negation_stops
                    ):
                        bare_negation, negated_at = True, None
                else:
                    i += 1
        if bare_negation or negated_at is not None:
            # "im really not", "not while im alone": a no (no risk, to the check-in question).
            yield "safe" if turn else "not_safe"


_TURNED = {"safe": "not_safe", "distress": "safe"}
_TURNED_YES_NO = {"safe": "not_safe", "not_safe": "safe"}
_TURNED_ANSWER = {
    SafetyAnswer.SAFE: SafetyAnswer.NOT_SAFE,
    SafetyAnswer.NOT_SAFE: SafetyAnswer.SAFE,
    SafetyAnswer.UNCLEAR: SafetyAnswer.UNCLEAR,
}


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    return any(tuple(words[i : i + len(phrase)]) == phrase for i in range(len(words)))


def _starts_with_any(words: list[str], openers: Iterable[tuple[str, ...]]) -> bool:
    return any(tuple(words[: len(o)]) == o for o in openers)


def _drop(words: list[str], phrase: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(words):
        if tuple(words[i : i + len(phrase)]) == phrase:
            i += len(phrase)
        else:
            out.append(words[i])
            i += 1
    return out


def _lookup_known_word() -> Callable[[str], bool]:
    """Real English words (spaCy's lookup table), so "fire" is never read as "fine"."""
    from bot import spacy_pipeline  # spaCy is heavy: only when a reader is first built

    table = spacy_pipeline.load().get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    lemmas = frozenset(table.values())
    return lambda word: word in table or word in lemmas


_default_reader: SafetyAnswerReader | None = None


def default_reader() -> SafetyAnswerReader:
    """The process-wide reader over the reviewed word lists."""
    global _default_reader
    if _default_reader is None:
        _default_reader = SafetyAnswerReader(load_vocabulary(), _lookup_known_word())
    return _default_reader


def read_safety_answer(text: str, polarity: Polarity = Polarity.YES_MEANS_SAFE) -> Reading:
    """Read ``text`` with the default reader (see ``SafetyAnswerReader.read``)."""
    return default_reader().read(text, polarity)
