"""spaCy ``Matcher``s grouped by anchor word, so a message only pays for the patterns it can match.

spaCy's Matcher starts every pattern at every token, and our patterns test word lists ("IN"),
which spaCy evaluates in Python: with ~600 phrases a 5,000-character message took about a
second. Each phrase has a required token whose words are rare enough to be worth looking for
(``patterns.anchor_of``). Phrases with the same anchor share one small Matcher; a message runs
only the Matchers whose anchor words occur in it, and only over the tokens around them. The
matches are exactly those of one big Matcher over the whole text (a test compares the two).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.safety.patterns import CompiledVariant, anchor_of, span_length

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

Hit = tuple[int, int, int]  # (match id, start token, end token)


@dataclass
class _Bucket:
    matcher: Any
    before: int  # tokens a match can reach before its anchor token
    after: int  # tokens a match can reach after it


class AnchoredMatcher:
    """Matches a set of compiled phrases, running each group only near its anchor words."""

    def __init__(self, vocab: Vocab, variants: Iterable[CompiledVariant]) -> None:
        from spacy.matcher import Matcher

        self.vocab = vocab
        groups: dict[tuple[frozenset[str], str | None], list[tuple[CompiledVariant, int]]] = {}
        self.full = Matcher(vocab, validate=False)
        for variant in variants:
            words, regex, index = anchor_of(variant.token_patterns)
            groups.setdefault((words, regex), []).append((variant, index))
            self.full.add(variant.key, [variant.token_patterns])
        self.buckets: list[_Bucket] = []
        self.by_word: dict[int, list[int]] = {}
        self.by_regex: list[tuple[re.Pattern[str], int]] = []
        for (words, regex), members in groups.items():
            matcher = Matcher(vocab, validate=False)
            before = after = 0
            for variant, index in members:
                matcher.add(variant.key, [variant.token_patterns])
                before = max(before, span_length(variant.token_patterns[:index]))
                after = max(after, span_length(variant.token_patterns[index + 1 :]))
            number = len(self.buckets)
            self.buckets.append(_Bucket(matcher, before, after))
            for word in words:
                self.by_word.setdefault(vocab.strings.add(word), []).append(number)
            if regex is not None:
                self.by_regex.append((re.compile(regex), number))
        self.word_hashes = frozenset(self.by_word)
        # One search per word first: most words match none of the anchor regexes.
        self.any_regex = re.compile(
            "|".join(f"(?:{r.pattern})" for r, _ in self.by_regex) or "(?!)"
        )

    def __call__(
        self,
        doc: Doc,
        *,
        prefilter: bool = True,
        near: list[tuple[int, int]] | None = None,
    ) -> list[Hit]:
        """All matches in ``doc`` (document positions), sorted, without repeats.

        ``near`` limits the search to matches that overlap those token ranges (the detector
        only needs exclusions that overlap a crisis match).
        """
        length = len(doc)
        if not length:
            return []
        if not prefilter:
            hits = self.full(doc)
            if near is not None:
                hits = [h for h in hits if any(s < h[2] and h[1] < e for s, e in near)]
            return sorted(hits, key=_order)
        lowers = doc.to_array("LOWER").tolist()
        present = set(lowers)
        anchors: dict[int, set[int]] = {}  # bucket -> anchor hashes present in the doc
        for word_hash in present & self.word_hashes:  # set & set walks the smaller one
            for number in self.by_word[word_hash]:
                anchors.setdefault(number, set()).add(word_hash)
        if self.by_regex:
            strings = self.vocab.strings
            for word_hash in present:
                text = strings[word_hash]
                if self.any_regex.search(text):
                    for regex, number in self.by_regex:
                        if regex.search(text):
                            anchors.setdefault(number, set()).add(word_hash)
        if not anchors:
            return []
        wanted = set().union(*anchors.values())
        positions: dict[int, list[int]] = {}
        for position, word_hash in enumerate(lowers):
            if word_hash in wanted:
                positions.setdefault(word_hash, []).append(position)
        found: set[Hit] = set()
        for number, hashes in anchors.items():
            bucket = self.buckets[number]
            ranges = []
            for word_hash in hashes:
                for p in positions[word_hash]:
                    start, end = max(0, p - bucket.before), min(length, p + bucket.after + 1)
                    if near is None or any(s < end and start < e for s, e in near):
                        ranges.append((start, end))
            for start, end in merge(ranges):
                target = doc if (start, end) == (0, length) else doc[start:end]
                for match_id, m_start, m_end in bucket.matcher(target):
                    found.add((match_id, m_start + start, m_end + start))
        hits = sorted(found, key=_order)
        if near is not None:
            hits = [h for h in hits if any(s < h[2] and h[1] < e for s, e in near)]
        return hits


def merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching ranges joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _order(hit: Hit) -> tuple[int, int, int]:
    return hit[1], hit[2], hit[0]
