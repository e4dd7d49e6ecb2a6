"""Stress the crisis detector with disguised and misspelt copies of the tuned evaluation sets.

Each crisis message of the tuned sets is rewritten one way at a time (seeded, reproducible):
Cyrillic or Greek look-alikes for half the letters that have one, stacked combining marks on
every letter, an invisible character inside every longer word with blank fillers between words,
full-width letters, and one keyboard slip (a swap, a missing, a neighbouring or a doubled key)
in one of its crisis key words. The hard negatives get the same disguises, and ten rounds of a
keyboard slip in a random word, to show whether the tolerance makes ordinary messages fire.
Prints recall and false alarms per rewrite. No assertions; the figures of issue 14 point 4.

    .venv/bin/python scripts/stress_crisis_spelling.py
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.safety.detector import CrisisDetector
from bot.safety.evaluate import SETS_DIR, load_cases

TUNED = ("crisis_eval", "crisis_holdout", "crisis_round3", "crisis_round4")
CYRILLIC = dict(zip("aeopcyxisk", "аеорсухіѕк", strict=True))
GREEK = dict(zip("aoikvtue", "αοικντυε", strict=True))
KEY_WORDS = set(
    """suicide suicidal kill killing die dying dead overdose overdosed cut cutting pills hang
    myself harm unalive death burden goodbye alive live living end""".split()
)
ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
WHERE = {char: (row, col) for row, keys in enumerate(ROWS) for col, char in enumerate(keys)}


def near(char: str) -> list[str]:
    """Keys touching ``char`` on a staggered QWERTY keyboard."""
    if char not in WHERE:
        return [char]
    row, col = WHERE[char]
    spots = [(row, col - 1), (row, col + 1), (row - 1, col), (row - 1, col + 1)]
    spots += [(row + 1, col - 1), (row + 1, col)]
    return [ROWS[r][c] for r, c in spots if 0 <= r < 3 and 0 <= c < len(ROWS[r])]


def look_alikes(table: dict[str, str]) -> Callable[[random.Random, str], str]:
    def rewrite(rng: random.Random, text: str) -> str:
        return "".join(table[c] if c in table and rng.random() < 0.5 else c for c in text)

    return rewrite


def zalgo(rng: random.Random, text: str) -> str:
    return "".join(
        c + "".join(chr(rng.randint(0x300, 0x36F)) for _ in range(rng.randint(1, 3)))
        if c.isalpha()
        else c
        for c in text
    )


def invisible(rng: random.Random, text: str) -> str:
    inside = ["\ufe0f", "\ufe0e", "\u034f", "\U000e0100", "\u180b", "\u200b", "\u2060"]
    between = ["\u3164", "\u2800", "\uffa0", " "]
    words = []
    for word in text.split(" "):
        if len(word) > 2:
            i = rng.randint(1, len(word) - 1)
            word = word[:i] + rng.choice(inside) + word[i:]
        words.append(word)
    return "".join(w + rng.choice(between) for w in words).rstrip()


def full_width(rng: random.Random, text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def slip(rng: random.Random, word: str) -> str:
    i = rng.randint(1, len(word) - 1)
    kind = rng.choice(["swap", "missing", "wrong", "extra"])
    if kind == "swap" and i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "missing" and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if kind == "wrong":
        return word[:i] + rng.choice(near(word[i].lower())) + word[i + 1 :]
    return word[:i] + rng.choice([*near(word[i].lower()), word[i].lower()]) + word[i:]


def slip_in(words: Callable[[str], bool]) -> Callable[[random.Random, str], str | None]:
    def rewrite(rng: random.Random, text: str) -> str | None:
        found = [m for m in re.finditer(r"[A-Za-z]{3,}", text) if words(m.group(0).lower())]
        if not found:
            return None
        match = rng.choice(found)
        return text[: match.start()] + slip(rng, match.group(0)) + text[match.end() :]

    return rewrite


def main() -> int:
    detector = CrisisDetector()
    detector.load()
    cases = [case for name in TUNED for case in load_cases(SETS_DIR / f"{name}.yml")]
    crisis = [c.text for c in cases if c.group == "crisis"]
    negatives = [c.text for c in cases if c.group == "non_crisis"]
    rewrites: list[tuple[str, Callable[[random.Random, str], str | None]]] = [
        ("unchanged", lambda rng, text: text),
        ("cyrillic look-alikes", look_alikes(CYRILLIC)),
        ("greek look-alikes", look_alikes(GREEK)),
        ("stacked marks (zalgo)", zalgo),
        ("invisibles and fillers", invisible),
        ("full-width", full_width),
        ("slip in a key word", slip_in(lambda w: w in KEY_WORDS)),
    ]
    print(f"{'rewrite':26} {'crisis caught':>22}   {'negatives fired':>20}")
    for name, rewrite in rewrites:
        rng = random.Random(7)
        texts = [t for t in (rewrite(rng, text) for text in crisis) if t is not None]
        caught = sum(detector.detect(t).is_crisis for t in texts)
        line = f"{name:26} {caught:6}/{len(texts):<5} {100 * caught / len(texts):6.1f}%"
        if name != "slip in a key word":
            negs = [t for t in (rewrite(rng, text) for text in negatives) if t is not None]
            fired = sum(detector.detect(t).is_crisis for t in negs)
            line += f"   {fired:6}/{len(negs):<5} {100 * fired / len(negs):6.2f}%"
        print(line)
    fired = total = 0
    anywhere = slip_in(lambda w: True)
    for seed in range(10):
        rng = random.Random(seed)
        for text in negatives:
            rewritten = anywhere(rng, text)
            if rewritten is not None:
                total += 1
                fired += detector.detect(rewritten).is_crisis
    print(
        f"{'slip in any word (x10)':26} {'':22}   {fired:6}/{total:<5} {100 * fired / total:6.2f}%"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
