"""The warning-sign taxonomy: the signs the data writers use, every pattern naming one, the
check-in tier only for middle-band signs, and broken data stopped with the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.safety import learned
from bot.safety.detector import TIER_CHECK_IN, TIER_FULL, CrisisDetector, CrisisResult
from bot.safety.patterns import DEFAULT_EXCLUSIONS_PATH, DEFAULT_PATTERN_DIR
from bot.safety.resources import ABUSE_CATEGORY
from bot.safety.taxonomy import DEFAULT_TAXONOMY_PATH, RESOURCE_KINDS, load_taxonomy
from bot.safety.yaml_data import SafetyDataError

SIGN_IDS = (
    "passive_wish",
    "active_ideation",
    "method",
    "intent",
    "plan",
    "preparatory",
    "farewell",
    "burden",
    "trapped_pain",
    "self_harm",
    "overdose_poisoning",
    "harm_to_others",
    "abuse_danger",
    "other_at_risk",
    "attempt_now",
)
MIDDLE_BAND = {"passive_wish", "farewell", "burden", "trapped_pain"}


def test_the_taxonomy_has_exactly_the_agreed_signs_and_middle_band() -> None:
    taxonomy = load_taxonomy()
    assert taxonomy.ids == SIGN_IDS
    assert taxonomy.middle_band == MIDDLE_BAND
    for sign in taxonomy.signs.values():
        assert sign.definition and sign.sources and sign.name
        assert sign.resources in RESOURCE_KINDS


def test_the_learned_layer_labels_by_the_taxonomy_band(tmp_path) -> None:
    middle = sorted(load_taxonomy().middle_band)[0]
    full = sorted(set(load_taxonomy().signs) - load_taxonomy().middle_band)[0]
    path = tmp_path / "set.yml"
    path.write_text(
        f"crisis:\n  - {{text: 'a', sign: {middle}}}\n  - {{text: 'b', sign: {full}}}\n",
        encoding="utf-8",
    )
    labels = {e.text: e.label for e in learned.load_examples([path])}
    assert labels == {"a": "check_in", "b": "full"}


def test_every_pattern_names_a_sign_and_every_sign_has_patterns(detector: CrisisDetector) -> None:
    signs = {entry.sign for entry in detector.entries}
    assert signs == set(SIGN_IDS)
    assert all(entry.sign == "" for entry in detector.exclusions)


def test_abuse_resources_follow_the_sign(detector: CrisisDetector) -> None:
    """The abuse lines are added by category (bot/safety/resources.py): the two must agree."""
    taxonomy = detector.taxonomy
    for entry in detector.entries:
        wants_abuse = "abuse" in RESOURCE_KINDS[taxonomy.signs[entry.sign].resources]
        assert wants_abuse == (entry.category == ABUSE_CATEGORY), entry.key


@pytest.mark.parametrize(
    ("text", "tier", "signs"),
    [
        ("I'm just a burden", TIER_CHECK_IN, ("burden",)),
        ("I hope I never wake up again", TIER_CHECK_IN, ("passive_wish",)),
        ("goodbye everyone, I'm sorry", TIER_CHECK_IN, ("farewell",)),
        ("I can't take it anymore", TIER_CHECK_IN, ("trapped_pain",)),
        ("I'm just a burden. I can't go on like this", TIER_CHECK_IN, ("burden", "trapped_pain")),
        ("I want to kill myself", TIER_FULL, ("active_ideation",)),
        ("I'm just a burden and I want to kill myself", TIER_FULL, ("active_ideation", "burden")),
        ("I took too many pills", TIER_FULL, ("overdose_poisoning",)),
        ("I wrote a suicide note", TIER_FULL, ("active_ideation", "preparatory")),
    ],
)
def test_check_in_only_when_every_sign_is_middle_band(
    detector: CrisisDetector, text: str, tier: str, signs: tuple[str, ...]
) -> None:
    result = detector.detect(text)
    assert result.is_crisis
    assert result.tier == tier
    assert result.signs == signs


def test_no_crisis_and_errors_keep_the_defaults(detector: CrisisDetector) -> None:
    assert detector.detect("I'd die for tacos") == CrisisResult(is_crisis=False)
    broken = CrisisDetector(pattern_dir=Path("/nonexistent"))
    result = broken.detect("hello")
    assert result.is_crisis and result.tier == TIER_FULL


SIGN = """  - id: passive_wish
    name: x
    band: middle
    resources: crisis_lines
    definition: x
    sources: [x]
"""


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("signs:\n" + SIGN.replace("band: middle", "band: half"), "band", "expected one of"),
        ("signs:\n" + SIGN.replace("crisis_lines", "phone"), "resources", "expected one of"),
        ("signs:\n" + SIGN + SIGN, "passive_wish", "used twice"),
        ("signs:\n" + SIGN.replace("    definition: x\n", ""), "definition", "non-empty"),
        ("signs:\n" + SIGN.replace("sources: [x]", "sources: []"), "sources", "at least one"),
        ("signs:\n" + SIGN + "    colour: red\n", "colour", "unknown key"),
        ("signs:\n" + SIGN.replace("id: passive_wish", "id: Passive"), "id", "lower_snake"),
    ],
)
def test_broken_taxonomy_names_file_and_key(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    path = tmp_path / "taxonomy.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SafetyDataError) as error:
        load_taxonomy(path)
    assert error.value.path == str(path)
    assert key in error.value.key
    assert problem in error.value.problem


@pytest.mark.parametrize(
    ("sign_line", "problem"),
    [("", "missing sign"), ("    sign: sadness\n", "unknown sign 'sadness'")],
)
def test_a_pattern_without_a_known_sign_stops_loading(
    tmp_path: Path, sign_line: str, problem: str
) -> None:
    directory = tmp_path / "patterns"
    directory.mkdir()
    path = directory / "suicidal_thoughts.yml"
    path.write_text(
        "category: suicidal_thoughts\npatterns:\n  - id: t_x\n"
        + sign_line
        + "    pattern: 'want to die'\n    examples: ['I want to die']\n",
        encoding="utf-8",
    )
    exclusions = tmp_path / "exclusions.yml"
    shutil.copy(DEFAULT_EXCLUSIONS_PATH, exclusions)
    with pytest.raises(SafetyDataError) as error:
        CrisisDetector(pattern_dir=directory, exclusions_path=exclusions).load()
    assert error.value.path == str(path)
    assert error.value.key == "patterns[0] (t_x).sign"
    assert problem in error.value.problem


def test_a_custom_taxonomy_is_used(tmp_path: Path) -> None:
    """A sign the reviewed patterns use but this taxonomy lacks is refused by name."""
    path = tmp_path / "taxonomy.yml"
    path.write_text("signs:\n" + SIGN, encoding="utf-8")
    with pytest.raises(SafetyDataError) as error:
        CrisisDetector(taxonomy_path=path).load()
    assert error.value.path.startswith(str(DEFAULT_PATTERN_DIR))
    assert "unknown sign" in error.value.problem
    assert str(DEFAULT_TAXONOMY_PATH) not in error.value.problem
