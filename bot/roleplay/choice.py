"""Reading the answers to "who should I play?" and "how hard should they push?".

Pure functions over the scenarios and levels (``bot.roleplay``), so the role-play's setup form
in ``actions/roleplay.py`` only wires them to the dialogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.roleplay.engine import list_difficulties, list_scenarios
from bot.roleplay.scenarios import Scenario

SURPRISE = "surprise"
MORE = "more"
PAGE_SIZE = 6  # scenario buttons per message, plus "Show me others" and "Surprise me"

_WORD_RE = re.compile(r"[a-z0-9]+")
# Words that say nothing about who to play ("your friend Maya", "a creator you follow").
_FILLER_WORDS = frozenset(
    {"a", "an", "and", "for", "from", "in", "my", "of", "on", "one", "the", "to", "with", "you"}
    | {"your", "can", "play", "pushy", "practise", "practice", "saying", "say", "want", "let"}
)
# Typed answers that leave the choice to the bot.
_SURPRISE_WORDS = frozenset({"surprise", "random", "anyone", "anything", "whatever", "any"})


def _words(text: str) -> set[str]:
    # A crude stem ("partners" -> "partner") is enough to match a word against a scenario.
    words = set()
    for word in _WORD_RE.findall(text.lower().replace("'", "")):
        if word in _FILLER_WORDS or len(word) < 3:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 4 else word)
    return words


def _is_payload(text: str) -> bool:
    # The channels strip a leading "/" from typed text, so this is a button press.
    return text.startswith("/")


@dataclass(frozen=True)
class Choice:
    """What a typed or tapped answer to "who should I play?" means."""

    kind: str  # "scenario", "surprise", "more", "matches", "unclear", "button"
    ids: tuple[str, ...] = ()


def scenarios() -> list[Scenario]:
    return list_scenarios()


def _keywords(scenario: Scenario) -> set[str]:
    return _words(
        " ".join(
            (
                scenario.title,
                scenario.category,
                scenario.relationship,
                scenario.persona_role,
                scenario.persona_name,
            )
        )
    )


def match_scenarios(text: str) -> list[str]:
    """Ids of the scenarios that typed words point to best ("coworker" -> cover_shift)."""
    words = _words(text)
    if not words:
        return []
    scores = {s.id: len(words & _keywords(s)) for s in scenarios()}
    best = max(scores.values(), default=0)
    return [sid for sid, score in scores.items() if best and score == best]


def pages() -> int:
    return max(1, -(-len(scenarios()) // PAGE_SIZE))


def page_ids(page: int) -> list[str]:
    ids = [s.id for s in scenarios()]
    start = (page % pages()) * PAGE_SIZE
    return ids[start : start + PAGE_SIZE]


def read_scenario_choice(value: Any, page: int) -> Choice:
    """Understand an answer to "who should I play?": an id, a title, a number, or words."""
    text = " ".join(str(value or "").split())
    if not text:
        return Choice("unclear")
    if _is_payload(text):
        return Choice("button")
    lowered = text.lower()
    known = {s.id: s for s in scenarios()}
    if lowered in (SURPRISE, MORE):
        return Choice(lowered)
    if lowered in known:
        return Choice("scenario", (lowered,))
    for scenario in known.values():
        if lowered.strip(" .!\"'") == scenario.title.lower():
            return Choice("scenario", (scenario.id,))
    if lowered.isdigit():
        on_page = page_ids(page)
        index = int(lowered) - 1
        if 0 <= index < len(on_page):
            return Choice("scenario", (on_page[index],))
        return Choice("unclear")
    if _words(text) & _SURPRISE_WORDS or "surprise" in lowered:
        return Choice(SURPRISE)
    found = match_scenarios(text)
    if len(found) == 1:
        return Choice("scenario", (found[0],))
    if found:
        return Choice("matches", tuple(found))
    return Choice("unclear")


def read_difficulty_choice(value: Any) -> str | None:
    """ "gentle", "Firm", "3", "surprise me" -> a difficulty id (or "surprise"); None if unclear."""
    text = " ".join(str(value or "").split()).lower().strip(" .!\"'")
    levels = list_difficulties()
    for level in levels:
        if text in (level.id, level.label.lower()):
            return level.id
    if text.isdigit() and 1 <= int(text) <= len(levels):
        return levels[int(text) - 1].id
    if text == SURPRISE or _words(text) & _SURPRISE_WORDS or "surprise" in text:
        return SURPRISE
    named = [level.id for level in levels if level.id in _words(text)]
    return named[0] if len(named) == 1 else None
