"""Normalisation: what the patterns see of what people type."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety.detector import CrisisDetector
from bot.safety.normalize import DEFAULT_RULES_PATH, load_rules, normalize
from bot.safety.yaml_data import SafetyDataError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I don’t want to wake up", "i do not want to wake up"),
        ("I can´t go on", "i can not go on"),
        ("I‘m done", "i am done"),
        ("I＇m done", "i am done"),
        ("WANNA DIE", "want to die"),
        ("im gonna kms", "i am going to kill myself"),
        ("kill my self", "kill myself"),
        ("k\u200bill myself", "kill myself"),
        ("\u200fI want to die\u200e", "i want to die"),
        ("i want\x00 to die", "i want to die"),
        ("i   want\n\nto\tdie", "i want to die"),
        ("soooo tired", "so tired"),
        ("i waaant to dieee", "i want to die"),
        ("I want to unalive myself", "i want to kill myself"),
        ("thoughts of unaliving", "thoughts of killing myself"),
        ("she wants to unalive herself", "she wants to kill herself"),
        ("i wanna self delete", "i want to kill myself"),
        ("self-deleting", "killing myself"),
        ("sewer slide", "suicide"),
        ("sewerslide", "suicide"),
        ("su1cide", "suicide"),
        ("s*icide", "suicide"),
        ("$uicide", "suicide"),
        ("k!ll myself", "kill myself"),
        ("I've been feeling suicdal", "i have been feeling suicidal"),
        ("sucide", "suicide"),
        ("SELF-HARM", "self harm"),
        ("selfharm", "self harm"),
        ("OD'd on my meds", "overdosed on my meds"),
        ("i want 2 die", "i want to die"),
        ("ctb tonight", "kill myself tonight"),
    ],
)
def test_normalize_maps_what_people_type_to_plain_forms(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10/10", "10/10"),
        ("i'm 14", "i am 14"),
        ("at 3pm", "at 3pm"),
        ("24/7", "24/7"),
        ("I'd rate it 7", "i would rate it 7"),
        ("call 988", "call 988"),
        ("2nd", "2nd"),
        ("me@mail.com", "me@mail.com"),
    ],
)
def test_numbers_and_symbols_are_not_read_as_letters(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_detector_normalizer_knows_real_words(detector: CrisisDetector) -> None:
    # "overdone" is one letter from "overdose": the lookup table says it is a word of its own.
    assert detector.normalize("I overdone it at the gym") == "i overdone it at the gym"
    assert detector.normalize("killlll myself") == "kill myself"


def test_rules_file_loads() -> None:
    rules = load_rules(DEFAULT_RULES_PATH)
    assert rules.words["kms"] == "kill myself"
    assert "suicidal" in rules.typo_families["suicide"]
    assert "pils" in rules.never_correct and "dye" in rules.typo_vocabulary


MINIMAL_RULES = {
    "characters": "{}",
    "lookalikes": "{}",
    "homoglyphs": "{}",
    "phrases": "[{match: x, replace: y, hint: x}]",
    "words": "{}",
    "contractions": "[{match: x, replace: y, hint: x}]",
    "leet": "{}",
    "typos": "{keywords: {suicide: [suicide]}, never_correct: [pils], vocabulary: vocab.yml}",
    "known_words": "[a]",
}


def _rules_yaml(**changes: str | None) -> str:
    """The smallest valid rules file with ``changes`` (None drops the key)."""
    rules = {**MINIMAL_RULES, **changes}
    return "".join(f"{key}: {value}\n" for key, value in rules.items() if value is not None)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"known_words": None}, "known_words"),
        ({"phrases": "[{match: '(', replace: x, hint: x}]"}, "phrases[0].match"),
        ({"phrases": "[{match: x, replace: y}]"}, "phrases[0].hint"),
        ({"words": "{'Two Words': x}"}, "words.Two Words"),
        ({"leet": "{'1': [il]}"}, "leet.1"),
        (
            {"typos": "{keywords: {od: [od]}, never_correct: [], vocabulary: vocab.yml}"},
            "typos.keywords.od[0]",
        ),
        (
            {"typos": "{keywords: {a: [die], b: [die]}, never_correct: [], vocabulary: vocab.yml}"},
            "typos.keywords.b[0]",
        ),
        (
            {"typos": "{keywords: {die: [Die]}, never_correct: [], vocabulary: vocab.yml}"},
            "typos.keywords.die[0]",
        ),
        ({"typos": "{keywords: {die: [die]}, vocabulary: vocab.yml}"}, "typos.never_correct"),
        (
            {"typos": "{keywords: {die: [die]}, never_correct: [], shortest: 3, vocabulary: v}"},
            "typos.shortest",
        ),
        ({"known_words": "[yes]"}, "known_words"),
        ({"homoglyphs": None}, "homoglyphs"),
        ({"homoglyphs": "{ab: 'а'}"}, "homoglyphs.ab"),
        ({"homoglyphs": "{a: 'a'}"}, "homoglyphs.a"),
        ({"homoglyphs": "{a: 'аа'}"}, "homoglyphs.a"),
        ({"lookalikes": "{k: 'ᴋ'}", "homoglyphs": "{k: 'ᴋ'}"}, "homoglyphs.k"),
    ],
)
def test_invalid_rules_name_the_file_and_key(
    tmp_path: Path, changes: dict[str, str | None], key: str
) -> None:
    path = tmp_path / "normalization.yml"
    path.write_text(_rules_yaml(**changes), encoding="utf-8")
    (tmp_path / "vocab.yml").write_text("words: [dye]\n", encoding="utf-8")
    with pytest.raises(SafetyDataError) as error:
        load_rules(path)
    assert error.value.path == str(path)
    assert error.value.key == key
    assert str(path) in str(error.value)


def test_the_minimal_rules_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "normalization.yml"
    path.write_text(_rules_yaml(), encoding="utf-8")
    (tmp_path / "vocab.yml").write_text("words: [dye]\n", encoding="utf-8")
    assert load_rules(path).homoglyphs == {}


@pytest.mark.parametrize(
    ("vocabulary", "key"),
    [(None, ""), ("words: [two words]\n", "words[0]"), ("word: []\n", "word")],
)
def test_a_broken_typo_vocabulary_names_its_file(
    tmp_path: Path, vocabulary: str | None, key: str
) -> None:
    path = tmp_path / "normalization.yml"
    path.write_text(_rules_yaml(), encoding="utf-8")
    if vocabulary is not None:
        (tmp_path / "vocab.yml").write_text(vocabulary, encoding="utf-8")
    with pytest.raises(SafetyDataError) as error:
        load_rules(path)
    assert error.value.path == str(tmp_path / "vocab.yml")
    assert error.value.key == key
