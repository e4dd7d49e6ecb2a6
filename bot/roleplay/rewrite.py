"""A firmer version of a reply, built from the user's own words (the debrief's rewrite).

No text is generated: the rewrite keeps the clauses of the reply that hold the user's no, their
acknowledgement of the other person and an offer they made, in their order and their words,
and drops the apologies, the excuses, the maybes and the jabs (the assessor tags each clause).
When the reply holds no no to keep, a give-in or a maybe of theirs is turned round by a fixed
pattern ("I'll cover your shift" -> "I won't cover your shift", "if I can make it" -> "I can't
make it"); failing that, the coaching file's plain no stands in.
"""

from __future__ import annotations

import re

from bot.roleplay.assessor import Assessment

MAX_CLAUSE_WORDS = 20  # a clause longer than this is a story, not a line to say out loud
_BARE_NO = {"no", "nope", "nah", "no thanks", "no thank you"}
_LEADING = re.compile(
    r"^(?:and|but|so|then|well|though|also|or|um|uh|hmm|oh|ok|okay)\b[\s,]*", re.I
)
# A give-in or a maybe turned round, subject and verb kept: the user's own words after them.
_TURNS = (
    (re.compile(r"\bif\s+(I|we)\s+(?:can|could)\s+(.+)", re.I), "{s} can't {rest}"),
    (
        re.compile(
            r"\b(I|we)\s*(?:'ll|’ll| will)\s+(?:just\s+|probably\s+|try to\s+)?"
            r"(?!see\b|think\b|check\b|let\b|have\b|get back\b|try\b|look\b)(.+)",
            re.I,
        ),
        "{s} won't {rest}",
    ),
    (
        re.compile(
            r"\b(I|we)\s+(?:can|could|might be able to)\s+(?:maybe\s+|probably\s+)?(.+)", re.I
        ),
        "{s} can't {rest}",
    ),
    (re.compile(r"\b(I|we)\s*(?:'d|’d| would)\s+(?:maybe\s+)?(.+)", re.I), "{s} won't {rest}"),
)
_ASKS = re.compile(r"^(?:how|what|could|would|can|shall|which|why not)\b", re.I)


def rewrite(verdict: Assessment, plain_no: str) -> str | None:
    """The reply said more firmly in the user's own words, or None if it needs no rewrite."""
    clauses = [(text, tags) for text, tags in verdict.clauses if _words(text)]
    clean = [
        (text, tags)
        for text, tags in clauses
        if not tags & {"jab", "sorry", "yes", "maybe", "excuse"}
        and len(_words(text)) <= MAX_CLAUSE_WORDS
    ]
    validation = next((text for text, tags in clean if "validation" in tags), None)
    nos = [text for text, tags in clean if "no" in tags]
    offer = next(
        (text for text, tags in clean if tags & {"alternative", "negotiate"} and "no" not in tags),
        None,
    )
    if verdict.label == "aggressive":
        offer = None  # "find someone else" after a jab is a brush-off, not an offer
    if nos:
        no = _the_no(nos)
    elif verdict.label == "passive" or verdict.features.get("gives_in"):
        no = _turned(clauses) or plain_no
        offer = None  # an offer beside a yes was part of the yes
    else:
        no = plain_no
    parts = [part for part in (validation, no, offer) if part]
    result = " ".join(_sentence(part) for part in parts)
    original = " ".join(_words(" ".join(text for text, _ in verdict.clauses)))
    if not result or " ".join(_words(result)) == original:
        return None
    return result


def _the_no(nos: list[str]) -> str:
    """The fullest no, with a bare "No" in front of it if the user said one first."""
    fullest = max(nos, key=lambda text: len(_words(text)))
    first = nos[0]
    if first != fullest and " ".join(_words(first)) in _BARE_NO:
        return f"{first.strip()}, {_lower_first(fullest.strip())}"
    return fullest


def _turned(clauses: list[tuple[str, frozenset[str]]]) -> str | None:
    for text, tags in clauses:
        if not tags & {"yes", "maybe"} or "jab" in tags:
            continue
        for pattern, form in _TURNS:
            found = pattern.search(text)
            if found:
                rest = found.group(2).strip().rstrip(".!?… ")
                subject = "I" if found.group(1).lower() == "i" else "We"
                if rest and len(rest.split()) <= MAX_CLAUSE_WORDS:
                    return form.format(s=subject, rest=rest)
    return None


def _sentence(text: str) -> str:
    text = _LEADING.sub("", text.strip()).strip().rstrip(".…,;: ")
    text = re.sub(r"\.{2,}", "", text).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if text.endswith(("?", "!")):
        return text
    return text + ("?" if _ASKS.match(text) else ".")


def _lower_first(text: str) -> str:
    if text[:2] in ("I ", "I'") or text[:2] == "I’":
        return text
    return text[:1].lower() + text[1:]


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())
