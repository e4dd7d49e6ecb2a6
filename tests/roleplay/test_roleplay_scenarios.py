"""The shipped content validates, covers the situations we promise, and stays civil."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.roleplay.assessor import get_assessor
from bot.roleplay.coaching import COACHING_PATH, load_coaching
from bot.roleplay.content import ContentError
from bot.roleplay.scenarios import (
    PRESSURE_KINDS,
    TITLE_MAX,
    load_difficulties,
    load_persona_lines,
    load_scenarios,
    scenario_from_script,
)
from tests.conftest import BrokenCopy

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "data" / "roleplay" / "scenarios"


def _valid() -> dict:
    return yaml.safe_load((SCENARIO_DIR / "cover_shift.yml").read_text())


def _write(directory: Path, name: str, data: dict | str) -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def test_at_least_twelve_scenarios_cover_every_area() -> None:
    loaded = load_scenarios()
    assert len(loaded) >= 12
    categories = {s.category for s in loaded.values()}
    assert {"work", "money", "family", "partner", "friends", "roommate", "influencer"} <= categories
    for needed in ("cover_shift", "weekend_work", "lend_money", "holiday_guilt"):
        assert needed in loaded
    assert {"partner_phone", "partner_plans", "friend_favour", "influencer_course"} <= set(loaded)


def test_every_scenario_is_complete_and_phone_sized() -> None:
    for scenario in load_scenarios().values():
        assert len(scenario.title) <= TITLE_MAX
        assert len(scenario.moves) >= 4
        assert len({m.kind for m in scenario.moves}) >= 4, scenario.id
        assert all(m.kind in PRESSURE_KINDS for m in scenario.moves)
        assert scenario.back_off and scenario.civil and scenario.on_give_in
        lines = [scenario.opening, *(m.line for m in scenario.moves), *scenario.back_off]
        assert all(len(line) <= 200 for line in lines)


def test_every_pressure_kind_is_used_somewhere() -> None:
    used = {m.kind for s in load_scenarios().values() for m in s.moves}
    assert used == set(PRESSURE_KINDS)


def test_personas_push_but_never_insult() -> None:
    """The assessor's own hostility patterns double as a check on what the personas say.

    The rules alone: the learned layer reads replies to a persona, and a persona's flattery
    ("You're so organised") is what users quote back at it in scorn.
    """
    rules = get_assessor()
    persona = load_persona_lines()
    lines: list[str] = []
    for s in load_scenarios().values():
        lines += [s.opening, *(m.line for m in s.moves), *s.back_off, *s.civil, *s.on_give_in]
    lines += [line for group in persona.lead_ins.values() for line in group]
    for line in lines:
        assert not rules.assess_rules(line).features["hostile"], line


def test_difficulties_grow_harder() -> None:
    table = load_difficulties()
    assert list(table) == ["gentle", "firm", "relentless"]
    assert table["gentle"].back_off_after < table["firm"].back_off_after
    assert table["firm"].back_off_after < table["relentless"].back_off_after
    assert table["relentless"].moves is None  # every move


def test_the_coaching_file_loads_and_has_a_marker() -> None:
    text = load_coaching()
    assert text.marker == "Coach:"
    assert all(line.startswith("{marker}") for line in text.intro)


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (lambda d: d["moves"][2].update(kind="bribery"), "moves[2].kind", "not one of"),
        (lambda d: d.pop("back_off"), "back_off", "is missing"),
        (lambda d: d.update(title="A title far too long for any button"), "title", "at most 30"),
        (lambda d: d.update(moves=d["moves"][:3]), "moves", "at least 4"),
        (lambda d: d["persona"].pop("role"), "persona.role", "is missing"),
        (lambda d: d.update(civil=[""]), "civil[0]", "non-empty"),
        (lambda d: d.update(colour="blue"), "colour", "not a scenario key"),
        (lambda d: [m.update(kind="guilt") for m in d["moves"]], "moves", "different kinds"),
    ],
)
def test_a_broken_scenario_names_the_file_and_key(
    tmp_path: Path, change, key: str, problem: str
) -> None:
    data = _valid()
    change(data)
    path = _write(tmp_path, "broken.yml", data)
    with pytest.raises(ContentError) as err:
        load_scenarios(tmp_path)
    message = str(err.value)
    assert str(path) in message
    assert f": {key}:" in message
    assert problem in message


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.yml", "id: x\nmoves: [\n  - kind: guilt\n")
    with pytest.raises(ContentError) as err:
        load_scenarios(tmp_path)
    assert str(path) in str(err.value)
    assert "line" in str(err.value) and "not valid YAML" in str(err.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "a.yml", _valid())
    second = _write(tmp_path, "b.yml", _valid())
    with pytest.raises(ContentError, match="already used") as err:
        load_scenarios(tmp_path)
    assert str(second) in str(err.value)


def test_a_bare_yes_in_content_is_caught(tmp_path: Path) -> None:
    data = _valid()
    text = yaml.safe_dump(data, sort_keys=False).replace(
        "category: work", "category: yes"
    )  # YAML 1.1 reads it as true
    path = _write(tmp_path, "yes.yml", text)
    with pytest.raises(ContentError, match="quotes") as err:
        load_scenarios(tmp_path)
    assert f"{path}: category" in str(err.value)


def test_an_unknown_placeholder_in_coaching_is_caught(broken_copy: BrokenCopy) -> None:
    old = '"\\"{no}\\" leaves no doubt: {skill}."'
    path = broken_copy(COACHING_PATH, old, '"Clear and calm: {nope} {skill}."')
    with pytest.raises(ContentError) as err:
        load_coaching(path)
    assert str(path) in str(err.value)
    assert "worked.clear_no.say[1]" in str(err.value)
    assert "{nope}" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "key", "missing"),
    [
        (
            '"\\"{no}\\" leaves no doubt: {skill}."',
            '"\\"{no}\\" leaves no doubt."',
            "worked.clear_no.say[1]",
            "{skill}",
        ),
        (
            '"Keep the no and drop {hostile}:',
            '"Keep the no and drop the edge:',
            "tip.keep_kind.say[1]",
            "{hostile}",
        ),
    ],
)
def test_coaching_must_name_the_skill_and_the_heated_words(
    broken_copy: BrokenCopy, old: str, new: str, key: str, missing: str
) -> None:
    path = broken_copy(COACHING_PATH, old, new)
    with pytest.raises(ContentError) as err:
        load_coaching(path)
    assert key in str(err.value) and f"must use {missing}" in str(err.value)


def test_scenario_from_script_uses_the_users_words(script: dict) -> None:
    scenario = scenario_from_script(script)
    assert scenario.title == "No more weekend shifts"
    assert scenario.persona_role == "my coworker Sam"
    assert scenario.persona_name == "Coworker Sam"
    assert len(scenario.moves) >= 4


def test_scenario_from_script_has_sensible_defaults(script: dict) -> None:
    del script["who"], script["title"]
    scenario = scenario_from_script(script)
    assert scenario.persona_role == "the other person"
    assert scenario.title == "Your own script"


@pytest.mark.parametrize("missing", ["describe", "express", "assert_", "reinforce"])
def test_a_script_without_a_part_is_refused(script: dict, missing: str) -> None:
    script[missing] = "  "
    with pytest.raises(ValueError, match=f"script.{missing}"):
        scenario_from_script(script)
