"""A small phrase syntax that compiles to spaCy ``Matcher`` patterns.

Raw ``Matcher`` patterns in YAML (``[{NORM: can}, {NORM: not}]``) are hard to review; a writer
reads ``@subj @adv? can not`` at a glance. Tokens are separated by spaces and matched on the
normalised form the assessor gives each token (lower case; the tokenizer already splits
"can't" into ``can not``, "I'm" into ``i am``, "gonna" into ``going to``):

    word        that word                     a|b|c      any of these words
    @set        any word of ``sets.<set>``    =lemma     any form of a word ("=cover")
    _           any one token                 -ing       any word ending in "ing"
    x?          the token is optional         x*         the token may repeat (0 or more)
"""

from __future__ import annotations

import re

_SUFFIX_RE = re.compile(r"^-([a-z]+)$")


class PhraseError(ValueError):
    """A phrase cannot be compiled (unknown set, empty phrase, bad token)."""


def compile_phrase(phrase: str, sets: dict[str, list[str]]) -> list[dict]:
    """Turn one phrase into a list of Matcher token patterns."""
    tokens = phrase.split()
    if not tokens:
        raise PhraseError("the phrase is empty")
    pattern: list[dict] = []
    for raw in tokens:
        op = None
        token = raw
        if len(token) > 1 and token[-1] in "?*":
            op, token = token[-1], token[:-1]
        spec = _compile_token(token, sets)
        if op:
            spec["OP"] = op
        pattern.append(spec)
    if all(spec.get("OP") in ("?", "*") for spec in pattern):
        raise PhraseError(f"every token of {phrase!r} is optional: it would match nothing")
    return pattern


def _compile_token(token: str, sets: dict[str, list[str]]) -> dict:
    if token == "_":
        return {}
    if token.startswith("@"):
        name = token[1:]
        if name not in sets:
            raise PhraseError(f"unknown set @{name}")
        return {"NORM": {"IN": list(sets[name])}}
    if token.startswith("="):
        lemmas = [part for part in token[1:].split("|") if part]
        if not lemmas:
            raise PhraseError(f"empty lemma in {token!r}")
        return {"LEMMA": {"IN": lemmas}} if len(lemmas) > 1 else {"LEMMA": lemmas[0]}
    suffix = _SUFFIX_RE.match(token)
    if suffix:
        return {"NORM": {"REGEX": rf"^[a-z]{{2,}}{suffix.group(1)}$"}}
    words = [part for part in token.split("|") if part]
    if not words:
        raise PhraseError(f"empty token {token!r}")
    return {"NORM": {"IN": words}} if len(words) > 1 else {"NORM": words[0]}
