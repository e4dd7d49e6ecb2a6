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
    assert "suicide" in rules.fuzzy_keywords


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        (
            "characters: {}\nphrases: []\nwords: {}\ncontractions: []\nleet: {}\n"
            "fuzzy: {min_length: 6, keywords: [suicide]}\n",
            "known_words",
        ),
        (
            "characters: {}\nphrases: [{match: '(', replace: x, hint: x}]\nwords: {}\ncontractions: []\n"
            "leet: {}\nfuzzy: {min_length: 6, keywords: [suicide]}\nknown_words: [a]\n",
            "phrases[0].match",
        ),
        (
            "characters: {}\nphrases: [{match: x, replace: y}]\nwords: {}\ncontractions: []\n"
            "leet: {}\nfuzzy: {min_length: 6, keywords: [suicide]}\nknown_words: [a]\n",
            "phrases[0].hint",
        ),
        (
            "characters: {}\nphrases: []\nwords: {'Two Words': x}\ncontractions: []\nleet: {}\n"
            "fuzzy: {min_length: 6, keywords: [suicide]}\nknown_words: [a]\n",
            "words.Two Words",
        ),
        (
            "characters: {}\nphrases: []\nwords: {}\ncontractions: []\nleet: {'1': [il]}\n"
            "fuzzy: {min_length: 6, keywords: [suicide]}\nknown_words: [a]\n",
            "leet.1",
        ),
        (
            "characters: {}\nphrases: []\nwords: {}\ncontractions: []\nleet: {}\n"
            "fuzzy: {min_length: 6, keywords: [die]}\nknown_words: [a]\n",
            "fuzzy.keywords[0]",
        ),
        (
            "characters: {}\nphrases: []\nwords: {}\ncontractions: []\nleet: {}\n"
            "fuzzy: {min_length: 6, keywords: [suicide]}\nknown_words: [yes]\n",
            "known_words",
        ),
    ],
)
def test_invalid_rules_name_the_file_and_key(tmp_path: Path, yaml_text: str, key: str) -> None:
    path = tmp_path / "normalization.yml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(SafetyDataError) as error:
        load_rules(path)
    assert error.value.path == str(path)
    assert error.value.key == key
    assert str(path) in str(error.value)
