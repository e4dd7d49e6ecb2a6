"""Role-play scenarios, difficulty levels and the generic persona, loaded from YAML.

Every file is validated when it is loaded, and a mistake names the file and the key
("scenarios/cover_shift.yml: moves[2].kind: 'bribery' is not one of ..."). The persona in a
scenario is pushy, never abusive: that is a review rule for writers, not something code checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.roleplay.content import CONTENT_DIR, ContentError, Reader, read_yaml

SCENARIO_DIR = CONTENT_DIR / "scenarios"
DIFFICULTIES_PATH = CONTENT_DIR / "difficulties.yml"
PERSONA_PATH = CONTENT_DIR / "persona.yml"

PRESSURE_KINDS = (
    "guilt",
    "flattery",
    "urgency",
    "minimising",
    "repeating",
    "bargaining",
    "everyone_else",
)
DIFFICULTY_ORDER = ("gentle", "firm", "relentless")
TITLE_MAX = 30  # a Telegram or webchat button
LINE_MAX = 200  # one chat bubble on a phone
MIN_MOVES = 4
MIN_KINDS = 3
SCRIPT_KEYS = ("describe", "express", "assert_", "reinforce")
SCRIPT_SCENARIO_ID = "own_script"


@dataclass(frozen=True)
class Move:
    kind: str
    line: str


@dataclass(frozen=True)
class Scenario:
    """One pushy person and their ask, with escalating moves and ways to back down."""

    id: str
    title: str
    category: str
    persona_name: str
    persona_role: str
    relationship: str
    opening: str
    moves: tuple[Move, ...]
    back_off: tuple[str, ...]
    civil: tuple[str, ...]
    on_give_in: tuple[str, ...]
    debrief_note: str | None = None


@dataclass(frozen=True)
class Difficulty:
    id: str
    label: str
    description: str
    moves: int | None  # None: every move of the scenario
    back_off_after: int

    def move_budget(self, scenario: Scenario) -> int:
        total = len(scenario.moves)
        return total if self.moves is None else min(self.moves, total)


@dataclass(frozen=True)
class PersonaLines:
    """Lead-ins and closings any persona uses, plus the persona for a user's own script."""

    lead_ins: dict[str, tuple[str, ...]]
    closing: dict[str, tuple[str, ...]]
    script: dict[str, Any]


# -- scenarios ------------------------------------------------------------------------------


def parse_scenario(path: Path, data: Any) -> Scenario:
    """Validate one scenario mapping; ``path`` is only used in error messages."""
    root = Reader(path, data)
    mapping = root.mapping()
    known = {
        "id",
        "title",
        "category",
        "persona",
        "relationship",
        "opening",
        "moves",
        "back_off",
        "civil",
        "on_give_in",
        "debrief_note",
    }
    for key in mapping:
        if key not in known:
            raise ContentError(path, str(key), "is not a scenario key")
    scenario_id = root.child("id").text()
    if not scenario_id.replace("_", "").isalnum() or scenario_id != scenario_id.lower():
        raise ContentError(path, "id", "must be lower_snake_case")
    persona = root.child("persona")
    moves_reader = root.child("moves")
    moves = []
    for item in moves_reader.items(MIN_MOVES):
        moves.append(
            Move(item.child("kind").choice(PRESSURE_KINDS), item.child("line").text(LINE_MAX))
        )
    if len({m.kind for m in moves}) < MIN_KINDS:
        raise moves_reader.fail(f"needs moves of at least {MIN_KINDS} different kinds")
    note = root.child("debrief_note", required=False)
    return Scenario(
        id=scenario_id,
        title=root.child("title").text(TITLE_MAX),
        category=root.child("category").text(),
        persona_name=persona.child("name").text(40),
        persona_role=persona.child("role").text(60),
        relationship=root.child("relationship").text(),
        opening=root.child("opening").text(LINE_MAX),
        moves=tuple(moves),
        back_off=tuple(root.child("back_off").texts(1, LINE_MAX)),
        civil=tuple(root.child("civil").texts(1, LINE_MAX)),
        on_give_in=tuple(root.child("on_give_in").texts(1, LINE_MAX)),
        debrief_note=note.text(300) if note else None,
    )


def load_scenarios(directory: Path = SCENARIO_DIR) -> dict[str, Scenario]:
    """Every ``*.yml`` in ``directory``, keyed by id, in file-name order."""
    files = sorted(Path(directory).glob("*.yml"))
    if not files:
        raise ContentError(directory, "", "holds no scenario files (*.yml)")
    out: dict[str, Scenario] = {}
    for path in files:
        scenario = parse_scenario(path, read_yaml(path))
        if scenario.id in out:
            raise ContentError(path, "id", f"{scenario.id!r} is already used by another file")
        if scenario.id == SCRIPT_SCENARIO_ID:
            raise ContentError(path, "id", f"{SCRIPT_SCENARIO_ID!r} is kept for users' scripts")
        out[scenario.id] = scenario
    return out


@functools.lru_cache(maxsize=1)
def scenarios() -> dict[str, Scenario]:
    """The shipped scenarios, loaded once per process."""
    return load_scenarios()


# -- difficulties and generic lines -----------------------------------------------------


def load_difficulties(path: Path = DIFFICULTIES_PATH) -> dict[str, Difficulty]:
    root = Reader(path, read_yaml(path)).child("difficulties")
    mapping = root.mapping()
    if tuple(mapping) != DIFFICULTY_ORDER:
        raise root.fail(f"must list exactly {', '.join(DIFFICULTY_ORDER)}, in that order")
    out = {}
    for key in DIFFICULTY_ORDER:
        item = root.child(key)
        moves_reader = item.child("moves")
        if moves_reader.data == "all":
            moves = None
        else:
            moves = moves_reader.integer(minimum=1)
        out[key] = Difficulty(
            id=key,
            label=item.child("label").text(20),
            description=item.child("description").text(LINE_MAX),
            moves=moves,
            back_off_after=item.child("back_off_after").integer(minimum=1),
        )
    return out


@functools.lru_cache(maxsize=1)
def difficulties() -> dict[str, Difficulty]:
    return load_difficulties()


def load_persona_lines(path: Path = PERSONA_PATH) -> PersonaLines:
    root = Reader(path, read_yaml(path))
    lead = root.child("lead_ins")
    lead_ins = {
        key: tuple(lead.child(key).texts(1, LINE_MAX))
        for key in ("after_hedge", "after_partial", "after_no", "after_other")
    }
    close = root.child("closing")
    closing = {
        key: tuple(close.child(key).texts(1, LINE_MAX)) for key in ("after_give_in", "after_maybe")
    }
    script = root.child("script_persona")
    script_data = {
        "name": script.child("name").text(),
        "role": script.child("role").text(),
        "default_who": script.child("default_who").text(40),
        "default_title": script.child("default_title").text(TITLE_MAX),
        # The script persona is a scenario without an ask: validate it as one.
        "scenario": parse_scenario(
            path,
            {
                "id": "script_persona",
                "title": "script",  # placeholders: only the lines are used
                "category": "own",
                "persona": {"name": "x", "role": "x"},
                "relationship": "own",
                **{
                    key: script.mapping()[key]
                    for key in ("opening", "moves", "back_off", "civil", "on_give_in")
                    if key in script.mapping()
                },
            },
        ),
    }
    return PersonaLines(lead_ins, closing, script_data)


@functools.lru_cache(maxsize=1)
def persona_lines() -> PersonaLines:
    return load_persona_lines()


# -- a user's own DEAR MAN script ---------------------------------------------------------


def validate_script(script: Any) -> dict[str, str]:
    """Check a saved DEAR MAN script and keep only the keys the role-play uses."""
    if not isinstance(script, dict):
        raise ValueError("a script must be a mapping with describe, express, assert_, reinforce")
    out = {}
    for key in SCRIPT_KEYS:
        value = script.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"script.{key}: must be a non-empty string")
        out[key] = " ".join(value.split())[:500]
    for key in ("who", "title"):
        value = script.get(key)
        if value is not None:
            if not isinstance(value, str):
                raise ValueError(f"script.{key}: must be a string")
            if value.strip():
                out[key] = " ".join(value.split())[:60]
    return out


def scenario_from_script(script: dict) -> Scenario:
    """A scenario in which a generic persona pushes back on the user's own boundary."""
    clean = validate_script(script)
    lines = persona_lines()
    base: Scenario = lines.script["scenario"]
    who = clean.get("who") or lines.script["default_who"]
    title = clean.get("title") or lines.script["default_title"]
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    return Scenario(
        id=SCRIPT_SCENARIO_ID,
        title=title,
        category="own",
        persona_name=lines.script["name"].format(who=_capitalised(_without_possessive(who))),
        persona_role=lines.script["role"].format(who=who),
        relationship=who,
        opening=base.opening,
        moves=base.moves,
        back_off=base.back_off,
        civil=base.civil,
        on_give_in=base.on_give_in,
    )


def _without_possessive(who: str) -> str:
    """ "my coworker Sam" speaks as "Coworker Sam": "My coworker Sam: ..." reads oddly."""
    first, _, rest = who.partition(" ")
    return rest if first.lower() in {"my", "our", "the"} and rest else who


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
