"""The reviewed pattern files: every phrase is proven by an example, every exclusion earns its
place, and broken data stops loading with an error that names the file and the key."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pytest
from spacy.schemas import validate_token_pattern

from bot.safety.detector import CrisisDetector
from bot.safety.patterns import DEFAULT_PATTERN_DIR
from bot.safety.yaml_data import SafetyDataError

EXPECTED_CATEGORIES = (
    "abuse_and_danger",
    "harm_to_others",
    "overdose_medical",
    "plans_and_means",
    "preparatory_acts_and_attempts",
    "self_harm",
    "someone_else_at_risk",
    "suicidal_thoughts",
)


def test_one_pattern_file_per_category(detector: CrisisDetector) -> None:
    assert detector.categories == EXPECTED_CATEGORIES
    assert sorted(p.stem for p in DEFAULT_PATTERN_DIR.glob("*.yml")) == list(EXPECTED_CATEGORIES)


def test_every_example_matches_its_own_pattern_and_category(detector: CrisisDetector) -> None:
    failures = []
    for entry in detector.entries:
        for example in entry.examples:
            analysis = detector.analyse(example)
            if entry.id not in analysis.matched or entry.category not in analysis.categories:
                failures.append(f"{entry.path} {entry.key}: {example!r} -> {analysis.matched}")
    assert not failures, "\n".join(failures)


def test_every_phrase_is_matched_by_an_example_of_its_entry(detector: CrisisDetector) -> None:
    """A phrase no example reaches may be broken (a typo silently weakens the floor)."""
    reached: dict[str, set[str]] = defaultdict(set)
    for entry in detector.entries:
        for example in entry.examples:
            reached[entry.id].update(detector.analyse(example).matched_variants)
    missing = [
        f"{p.entry.path} {p.entry.key}: phrase {p.index + 1} ({p.entry.sources[p.index]!r})"
        for p in detector.phrases()
        if p.entry.category != "exclusion" and p.key not in reached[p.entry.id]
    ]
    assert not missing, "phrases without a matching example:\n" + "\n".join(missing)


def test_every_exclusion_example_is_silent_and_silenced_by_it(detector: CrisisDetector) -> None:
    failures = []
    for exclusion in detector.exclusions:
        for example in exclusion.examples:
            analysis = detector.analyse(example)
            silenced = any(exclusion.id in ids for ids in analysis.suppressed.values())
            if analysis.is_crisis or not silenced:
                failures.append(
                    f"{exclusion.key}: {example!r} matched={analysis.matched} "
                    f"suppressed={analysis.suppressed}"
                )
    assert not failures, "\n".join(failures)


def test_every_exclusion_phrase_silences_one_of_its_examples(detector: CrisisDetector) -> None:
    used: set[str] = set()
    for exclusion in detector.exclusions:
        for example in exclusion.examples:
            used.update(detector.analyse(example).silencing_variants)
    unused = [
        f"{p.entry.key}: {p.entry.sources[p.index]!r}"
        for p in detector.phrases()
        if p.entry.category == "exclusion" and p.key not in used
    ]
    assert not unused, "exclusion phrases no example needs:\n" + "\n".join(unused)


def test_compiled_patterns_pass_spacy_schema(detector: CrisisDetector) -> None:
    # Production loads with Matcher(validate=False) to save start-up time; check here instead.
    problems = {
        p.key: errors
        for p in detector.phrases()
        if (errors := validate_token_pattern(p.token_patterns))
    }
    assert not problems


def test_pattern_ids_are_unique_across_files(detector: CrisisDetector) -> None:
    ids = [e.id for e in detector.entries] + [e.id for e in detector.exclusions]
    assert len(ids) == len(set(ids))


# -- broken data ---------------------------------------------------------------------------

GOOD_ENTRY = """
  - id: t_want_to_die
    sign: active_ideation
    pattern: "want _2 to _1 die"
    examples: ["I want to die"]
"""


def _pattern_dir(tmp_path: Path, body: str, name: str = "suicidal_thoughts") -> Path:
    directory = tmp_path / "patterns"
    directory.mkdir()
    (directory / f"{name}.yml").write_text(body, encoding="utf-8")
    return directory


def _load(tmp_path: Path, pattern_dir: Path) -> None:
    exclusions = tmp_path / "exclusions.yml"
    exclusions.write_text(
        "exclusions:\n  - id: ex_t\n    pattern: 'die for'\n    examples: ['x']\n", encoding="utf-8"
    )
    CrisisDetector(pattern_dir=pattern_dir, exclusions_path=exclusions).load()


@pytest.mark.parametrize(
    ("body", "key_part", "problem_part"),
    [
        ("category: other\npatterns:" + GOOD_ENTRY, "category", "file name"),
        (
            "category: suicidal_thoughts\ncolour: red\npatterns:" + GOOD_ENTRY,
            "colour",
            "unknown key",
        ),
        (
            "category: suicidal_thoughts\npatterns:\n  - id: t_x\n    sign: active_ideation\n    pattern: 'want to die'\n",
            "examples",
            "expected a list",
        ),
        (
            "category: suicidal_thoughts\npatterns:\n  - id: t_x\n    sign: active_ideation\n    pattern: 'want @nosuchset'\n"
            "    examples: [a]\n",
            "t_x",
            "unknown set",
        ),
        (
            "category: suicidal_thoughts\npatterns:\n  - id: t_x\n    sign: active_ideation\n    pattern: 'want /(/'\n"
            "    examples: [a]\n",
            "t_x",
            "invalid regex",
        ),
        (
            'category: suicidal_thoughts\npatterns:\n  - id: t_x\n    sign: active_ideation\n    pattern: "i dont care"\n'
            "    examples: [a]\n",
            "t_x",
            "normalised form",
        ),
        (
            "category: suicidal_thoughts\npatterns:\n  - id: t_x\n    sign: active_ideation\n    pattern: 'want _2'\n"
            "    examples: [a]\n",
            "t_x",
            "gap",
        ),
        (
            "category: suicidal_thoughts\npatterns:" + GOOD_ENTRY + GOOD_ENTRY,
            "t_want_to_die",
            "id also used",
        ),
        (
            "category: suicidal_thoughts\npatterns:\n  - id: Bad-Id\n    sign: active_ideation\n    pattern: 'die'\n"
            "    examples: [a]\n",
            "id",
            "lower_snake_case",
        ),
        ("category: suicidal_thoughts\npatterns: [\n", "", "invalid YAML"),
    ],
)
def test_broken_pattern_files_name_file_and_key(
    tmp_path: Path, body: str, key_part: str, problem_part: str
) -> None:
    directory = _pattern_dir(tmp_path, body)
    with pytest.raises(SafetyDataError) as error:
        _load(tmp_path, directory)
    assert error.value.path == str(directory / "suicidal_thoughts.yml")
    assert key_part in error.value.key
    assert problem_part in error.value.problem


def test_a_custom_pattern_dir_is_used(tmp_path: Path) -> None:
    directory = _pattern_dir(tmp_path, "category: suicidal_thoughts\npatterns:" + GOOD_ENTRY)
    exclusions = tmp_path / "exclusions.yml"
    shutil.copy(DEFAULT_PATTERN_DIR.parent / "exclusions.yml", exclusions)
    custom = CrisisDetector(pattern_dir=directory, exclusions_path=exclusions)
    assert custom.categories == ("suicidal_thoughts",)
    assert custom.detect("I want to die").matched == ("t_want_to_die",)
    assert not custom.detect("I want to kill myself").is_crisis
