"""The coach's words (``data/roleplay/coaching.yml``), validated and rendered.

Placeholders are checked at load: a template that names a value the engine never supplies
("{nme}") fails at start-up with the file and key, instead of mid-conversation.
"""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.roleplay.content import CONTENT_DIR, ContentError, Reader, read_yaml

COACHING_PATH = CONTENT_DIR / "coaching.yml"

WORKED_KEYS = (
    "broken_record",
    "clear_no",
    "clear_no_with_alternative",
    "buried_no",
    "hostile_with_no",
    "hostile",
    "gave_in_after_no",
    "gave_in",
    "hedged",
    "offered_only",
    "excuse_only",
    "nothing",
)
TIP_KEYS = (
    "broken_record",
    "keep_repeating",
    "drop_reasons",
    "drop_apologies",
    "drop_padding",
    "say_the_no",
    "no_first",
    "take_it_back",
    "stay_with_first_no",
    "keep_kind",
    "alternative_only_if_meant",
    "ended_held",
    "ended",
)
OUTCOME_KEYS = (
    "backed_off",
    "out_of_moves",
    "gave_in",
    "maybe",
    "hostile",
    "stopped",
    "no_replies",
)
NEXT_TIME_KEYS = ("apology", "over_justification", "hedge", "hostile", "gave_in", "none")
_COUNT_FIELDS = {"clear_no", "apology", "over_justification", "hedge", "hostile"}
_USER_WORDS = {"no"}


@dataclass(frozen=True)
class Coaching:
    marker: str
    line: str
    persona_line: str
    intro: tuple[str, ...]
    script_intro: tuple[str, ...]
    worked: dict[str, tuple[str, ...]]
    tip: dict[str, tuple[str, ...]]
    stop: tuple[str, ...]
    already_over: tuple[str, ...]
    outcome: dict[str, tuple[str, ...]]
    counts: tuple[str, ...]
    strongest: tuple[str, ...]
    no_strongest: tuple[str, ...]
    next_time: dict[str, tuple[str, ...]]

    def pick(self, options: tuple[str, ...], rng: random.Random, **values: Any) -> str:
        return options[rng.randrange(len(options))].format(marker=self.marker, **values)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _templates(reader: Reader, allowed: set[str]) -> tuple[str, ...]:
    out = []
    for item in reader.items(1):
        text = item.text(300)
        try:
            names = _fields(text)
        except ValueError as exc:
            raise item.fail(f"has broken braces ({exc})") from exc
        unknown = names - allowed
        if unknown:
            raise item.fail(f"uses {{{sorted(unknown)[0]}}}, allowed here: {sorted(allowed)}")
        out.append(text)
    return tuple(out)


def _keyed(reader: Reader, keys: tuple[str, ...], allowed: set[str]) -> dict[str, tuple[str, ...]]:
    extra = set(reader.mapping()) - set(keys)
    if extra:
        raise reader.fail("is not a known key", key=f"{reader.key}.{sorted(extra)[0]}")
    return {key: _templates(reader.child(key), allowed) for key in keys}


def load_coaching(path: Path = COACHING_PATH) -> Coaching:
    root = Reader(path, read_yaml(path))
    marker = root.child("marker").text(20)
    line = root.child("line").text()
    persona_line = root.child("persona_line").text()
    for key, template, allowed in (
        ("line", line, {"marker", "worked", "tip"}),
        ("persona_line", persona_line, {"name", "line"}),
    ):
        unknown = _fields(template) - allowed
        if unknown:
            raise ContentError(path, key, f"uses {{{sorted(unknown)[0]}}}")
    debrief = root.child("debrief")
    return Coaching(
        marker=marker,
        line=line,
        persona_line=persona_line,
        intro=_templates(root.child("intro"), {"marker", "role", "difficulty", "name"}),
        script_intro=_templates(root.child("script_intro"), {"marker", "who", "assert_"}),
        worked=_keyed(root.child("worked"), WORKED_KEYS, _USER_WORDS),
        tip=_keyed(root.child("tip"), TIP_KEYS, set()),
        stop=_templates(root.child("stop"), {"marker"}),
        already_over=_templates(root.child("already_over"), {"marker"}),
        outcome=_keyed(debrief.child("outcome"), OUTCOME_KEYS, {"name"}),
        counts=_templates(debrief.child("counts"), _COUNT_FIELDS),
        strongest=_templates(debrief.child("strongest"), {"reply"}),
        no_strongest=_templates(debrief.child("no_strongest"), set()),
        next_time=_keyed(debrief.child("next_time"), NEXT_TIME_KEYS, set()),
    )


@functools.lru_cache(maxsize=1)
def coaching() -> Coaching:
    return load_coaching()
