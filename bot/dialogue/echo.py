"""Saying a user's own words back to them, briefly: "not pretending I'm fine" becomes "not
pretending you're fine".

A reflection shows that a sentence was heard without asking for it again. It turns the first
person into the second, drops the filler people start and end sentences with ("and", "but",
"i guess"), and cuts long text at a word boundary. It never adds words of its own, so what is
echoed is always what the user said.
"""

from __future__ import annotations

import re

from bot.dialogue.texts import shorten

ECHO_MAX_CHARS = 80

# One word at a time: "i" -> "you", "my" -> "your". Two-word forms come first ("i am").
_PAIRS = {
    ("i", "am"): "you are",
    ("i", "was"): "you were",
    ("im",): "you're",
    ("i'm",): "you're",
    ("i've",): "you've",
    ("ive",): "you've",
    ("i'd",): "you'd",
    ("i'll",): "you'll",
    ("i",): "you",
    ("me",): "you",
    ("my",): "your",
    ("mine",): "yours",
    ("myself",): "yourself",
}
_TOKEN = re.compile(r"[A-Za-z']+|[^A-Za-z'\s]+")
_LEADING = ("and", "but", "so", "also", "or", "like", "well", "um", "uh", "just")
_TRAILING = ("i guess", "i think", "i suppose", "tbh", "lol", "honestly", "really", "i mean")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.replace("\u2019", "'").replace("\u2018", "'"))


def _strip_words(text: str, words: tuple[str, ...], *, leading: bool) -> str:
    changed = True
    while changed:
        changed = False
        lowered = text.lower()
        for word in words:
            if leading and (lowered == word or lowered.startswith(word + " ")):
                text, changed = text[len(word) :].lstrip(" ,"), True
                break
            if not leading and (lowered == word or lowered.endswith(" " + word)):
                text, changed = text[: len(text) - len(word)].rstrip(" ,"), True
                break
    return text


def second_person(text: str) -> str:
    """``text`` with I/me/my turned into you/your (nothing else is changed but spacing)."""
    tokens = _tokens(text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        lowered = [t.lower() for t in tokens[i : i + 2]]
        if len(lowered) == 2 and tuple(lowered) in _PAIRS:
            out.append(_PAIRS[tuple(lowered)])
            i += 2
            continue
        out.append(_PAIRS.get((lowered[0],), tokens[i]))
        i += 1
    joined = " ".join(out)
    # Punctuation goes back against the word before it.
    return re.sub(r" ([,.;:!?)])", r"\1", joined)


def echo(text: str, limit: int = ECHO_MAX_CHARS) -> str:
    """A short reflection of ``text``: second person, filler off both ends, at most ``limit``."""
    said = " ".join(text.split()).strip(" .,;:!?\"'-")
    said = _strip_words(said, _LEADING, leading=True)
    said = _strip_words(said, _TRAILING, leading=False)
    said = second_person(said).strip(" .,;:!?\"'-")
    return shorten(said, limit)
