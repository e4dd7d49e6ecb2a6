"""The coach's words (``data/roleplay/coaching.yml``), validated and rendered.

Placeholders are checked at load: a template that names a value the engine never supplies
("{nme}") fails at start-up with the file and key, instead of mid-conversation. So are the
coaching rules the file promises: every sentence on what worked and every tip names its skill
({skill}), and the tip after an aggressive reply quotes the words that made it so ({hostile}).
"""

from __future__ import annotations

import functools
import random
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.roleplay.content import CONTENT_DIR, ContentError, Reader, read_yaml

COACHING_PATH = CONTENT_DIR / "coaching.yml"

SKILL_KEYS = (
    "assert",
    "mindful",
    "confident",
    "negotiate",
    "validate",
    "gentle",
    "no_apologies",
    "values",
    "truthful",
)
WORKED_KEYS = (
    "broken_record",
    "clear_no",
    "validated_no",
    "negotiated",
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
    "add_validation",
    "drop_reasons",
    "drop_apologies",
    "drop_hesitation",
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
_NOT_WORDS = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class Advice:
    """One `worked` or `tip` entry: the skill it names and its sentences."""

    skill: str
    say: tuple[str, ...]


@dataclass(frozen=True)
class Coaching:
    marker: str
    line: str
    persona_line: str
    skills: dict[str, str]
    intro: tuple[str, ...]
    script_intro: tuple[str, ...]
    worked: dict[str, Advice]
    tip: dict[str, Advice]
    retry_offer: tuple[str, ...]
    retry_intro: tuple[str, ...]
    retry_nothing: tuple[str, ...]
    retry_words: frozenset[str]
    stop: tuple[str, ...]
    already_over: tuple[str, ...]
    outcome: dict[str, tuple[str, ...]]
    counts: tuple[str, ...]
    strongest: tuple[str, ...]
    no_strongest: tuple[str, ...]
    weakest: tuple[str, ...]
    rewrite: tuple[str, ...]
    no_weakest: tuple[str, ...]
    rewrite_no: str
    next_time: dict[str, tuple[str, ...]]

    def pick(self, options: tuple[str, ...], rng: random.Random, **values: Any) -> str:
        return options[rng.randrange(len(options))].format(marker=self.marker, **values)

    def advise(self, advice: Advice, rng: random.Random, **values: Any) -> str:
        """One sentence of advice with its skill named."""
        return self.pick(advice.say, rng, skill=self.skills[advice.skill], **values)

    def asks_retry(self, text: str) -> bool:
        """Whether a typed message asks to redo the last reply ("try that again")."""
        return normalise_words(text) in self.retry_words


def normalise_words(text: str) -> str:
    return " ".join(_NOT_WORDS.sub(" ", str(text).lower()).split())


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _templates(
    reader: Reader, allowed: set[str], required: frozenset[str] = frozenset()
) -> tuple[str, ...]:
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
        missing = required - names
        if missing:
            raise item.fail(f"must use {{{sorted(missing)[0]}}}")
        out.append(text)
    return tuple(out)


def _keyed(reader: Reader, keys: tuple[str, ...], allowed: set[str]) -> dict[str, tuple[str, ...]]:
    extra = set(reader.mapping()) - set(keys)
    if extra:
        raise reader.fail("is not a known key", key=f"{reader.key}.{sorted(extra)[0]}")
    return {key: _templates(reader.child(key), allowed) for key in keys}


def _advice(reader: Reader, keys: tuple[str, ...], allowed: set[str]) -> dict[str, Advice]:
    extra = set(reader.mapping()) - set(keys)
    if extra:
        raise reader.fail("is not a known key", key=f"{reader.key}.{sorted(extra)[0]}")
    out = {}
    for key in keys:
        entry = reader.child(key)
        required = {"skill"} | ({"hostile"} if key == "keep_kind" else set())
        out[key] = Advice(
            skill=entry.child("skill").choice(SKILL_KEYS),
            say=_templates(entry.child("say"), allowed | required, frozenset(required)),
        )
    return out


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
    skills_reader = root.child("skills")
    extra = set(skills_reader.mapping()) - set(SKILL_KEYS)
    if extra:
        raise skills_reader.fail("is not a known skill", key=f"skills.{sorted(extra)[0]}")
    skills = {key: skills_reader.child(key).text(60) for key in SKILL_KEYS}
    debrief = root.child("debrief")
    rewrite_no = debrief.child("rewrite_no").text(120)
    return Coaching(
        marker=marker,
        line=line,
        persona_line=persona_line,
        skills=skills,
        intro=_templates(root.child("intro"), {"marker", "role", "difficulty", "name"}),
        script_intro=_templates(root.child("script_intro"), {"marker", "who", "assert_"}),
        worked=_advice(root.child("worked"), WORKED_KEYS, {"no"}),
        tip=_advice(root.child("tip"), TIP_KEYS, set()),
        retry_offer=_templates(root.child("retry_offer"), set()),
        retry_intro=_templates(root.child("retry_intro"), {"marker", "name"}),
        retry_nothing=_templates(root.child("retry_nothing"), {"marker", "name"}),
        retry_words=frozenset(normalise_words(w) for w in root.child("retry_words").words()),
        stop=_templates(root.child("stop"), {"marker"}),
        already_over=_templates(root.child("already_over"), {"marker"}),
        outcome=_keyed(debrief.child("outcome"), OUTCOME_KEYS, {"name"}),
        counts=_templates(debrief.child("counts"), _COUNT_FIELDS),
        strongest=_templates(debrief.child("strongest"), {"reply"}),
        no_strongest=_templates(debrief.child("no_strongest"), set()),
        weakest=_templates(debrief.child("weakest"), {"reply"}),
        rewrite=_templates(debrief.child("rewrite"), {"rewrite"}),
        no_weakest=_templates(debrief.child("no_weakest"), set()),
        rewrite_no=rewrite_no,
        next_time=_keyed(debrief.child("next_time"), NEXT_TIME_KEYS, set()),
    )


@functools.lru_cache(maxsize=1)
def coaching() -> Coaching:
    return load_coaching()
