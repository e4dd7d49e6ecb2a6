"""Typed value words matched to the catalogue with the shared spaCy pipeline's lemmas."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.content import ContentError
from bot.exercises.values import (
    PAGE_SIZE,
    VALUES_FILE,
    VALUES_TEXTS_FILE,
    load_values_content,
    value_matcher,
    values_content,
)


@pytest.fixture(scope="module")
def matcher():
    return value_matcher()


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("being honest", ("honesty",)),
        ("kind", ("kindness",)),
        ("kinder", ("kindness",)),
        ("braver", ("courage",)),
        ("Self-Respect!", ("self_respect",)),
        ("self care", ("self_care",)),
        ("looking after myself", ("self_care",)),
        ("caring for others", ("caring",)),
        ("I value my kindness", ("kindness",)),
        ("healthier", ("health",)),
        ("forgiving", ("forgiveness",)),
        ("honest love", ("honesty", "love")),
        ("honesty, kindness and courage", ("honesty", "kindness", "courage")),
        ("trust\nloyalty", ("trust", "loyalty")),
        ("fun / freedom", ("fun", "freedom")),
        ("being myself", ("authenticity",)),
        ("kindness, kindness", ("kindness",)),
    ],
)
def test_typed_words_find_catalogue_values(matcher, typed: str, expected: tuple[str, ...]) -> None:
    reading = matcher.read(typed)
    assert reading.known == expected
    assert reading.own == ()
    assert reading.command is None


def test_unknown_words_are_kept_as_the_users_own_value(matcher) -> None:
    reading = matcher.read("gardening, being creative, time outdoors")
    assert reading.known == ("creativity",)
    assert reading.own == ("gardening", "time outdoors")


def test_filler_before_an_own_value_is_dropped(matcher) -> None:
    assert matcher.read("my family").own == ("family",)
    assert matcher.read("being outdoors").own == ("outdoors",)
    assert matcher.read("I want to be more adventurous").known == ("adventure",)


@pytest.mark.parametrize("typed", ["ok", "no idea", "I don't know", "hmm", "why", "🙂", "123"])
def test_non_answers_are_not_kept_as_values(matcher, typed: str) -> None:
    reading = matcher.read(typed)
    assert reading.picks == ()
    assert reading.too_long == ()


def test_a_whole_sentence_is_not_taken_as_one_value(matcher) -> None:
    reading = matcher.read("the ability to speak my mind in every single situation at work")
    assert reading.picks == ()
    assert reading.too_long


@pytest.mark.parametrize(
    ("typed", "known", "own", "sense"),
    [
        # Issue 15, point 5: a sentence gives its value, and what it meant is kept to say back.
        (
            "being honest with them, not pretending I'm fine all the time",
            ("honesty",),
            (),
            ("not pretending i'm fine all the time",),
        ),
        (
            "idk maybe kindness, but towards me for once",
            ("kindness",),
            (),
            ("towards me for once",),
        ),
        (
            "i want to be more creative and stop living for his approval",
            ("creativity",),
            (),
            ("stop living for his approval",),
        ),
        ("i think family and having time for myself", (), ("family", "having time for myself"), ()),
        ("family i guess", (), ("family",), ()),
        (
            "courage, adventure and time with my dog",
            ("courage", "adventure"),
            ("time with my dog",),
            (),
        ),
        (
            "making stuff with my hands, pottery and that",
            (),
            ("pottery",),
            ("making stuff with my hands",),
        ),
    ],
)
def test_a_sentence_gives_its_values_and_what_it_meant(
    matcher, typed: str, known: tuple, own: tuple, sense: tuple
) -> None:
    reading = matcher.read(typed)
    assert (reading.known, reading.own, reading.too_long) == (known, own, sense)


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("making stuff with my hands, pottery and that", "creativity"),
        ("being there for the people i love", "connection"),
        ("i like seeing new places", "adventure"),
        ("staying calm when everyone around me is losing it", "peace"),
    ],
)
def test_a_sentence_without_a_value_word_gets_the_nearest_values(
    matcher, typed: str, nearest: str
) -> None:
    suggestions = matcher.suggest(typed)
    assert nearest in suggestions
    assert len(suggestions) <= 3


@pytest.mark.parametrize(
    "typed", ["asdf qwer zxcv", "the weather is nice today", "i don't know what to say here"]
)
def test_small_talk_and_gibberish_get_no_suggestions(matcher, typed: str) -> None:
    assert matcher.suggest(typed) == ()


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("more", "more"),
        ("next please", "more"),
        ("show me more", "more"),
        ("done", "done"),
        ("That's all", "done"),
        ("I'm done", "done"),
        ("done for now", "done"),
        ("no", "done"),
    ],
)
def test_more_and_done(matcher, typed: str, command: str) -> None:
    assert matcher.read(typed).command == command


def test_values_and_done_in_one_answer(matcher) -> None:
    reading = matcher.read("honesty, fun, done")
    assert reading.known == ("honesty", "fun")
    assert reading.command == "done"


def test_choosing_the_top_three_among_the_picks(matcher) -> None:
    picks = ["honesty", "kindness", "time outdoors", "courage"]
    assert matcher.read_among("being honest and brave", picks) == ("honesty", "courage")
    # An own value typed a little differently is still found.
    assert matcher.read_among("outdoors", picks) == ("time outdoors",)
    # A value that was not picked is not chosen.
    assert matcher.read_among("love", picks) == ()


@pytest.mark.parametrize(
    ("typed", "areas"),
    [
        ("work", ["work"]),
        ("my job", ["work"]),
        ("with my mum", ["family"]),
        ("my partner", ["relationships"]),
        ("my dating life", ["relationships"]),
        ("friends", ["friendships"]),
        ("all of them", ["all"]),
        ("everything", ["all"]),
        ("my job and my family", ["work", "family"]),
        ("bananas", []),
    ],
)
def test_life_areas(matcher, typed: str, areas: list[str]) -> None:
    assert matcher.areas(typed) == areas


def test_the_catalogue_has_about_forty_values_in_pages_a_phone_can_show() -> None:
    content = values_content()
    assert 36 <= len(content.values) <= 44
    assert content.page_count() == -(-len(content.values) // PAGE_SIZE)
    assert all(len(content.page(i)) <= PAGE_SIZE for i in range(content.page_count()))
    # Paging past the last page starts again at the first.
    assert content.page(content.page_count()) == content.page(0)
    assert all(len(value.label) <= 30 for value in content.values)
    assert all(len(area.label) <= 30 for area in content.areas)


def test_every_value_form_finds_its_own_value(matcher) -> None:
    """No form in the content is swallowed by another value's form."""
    for value in values_content().values:
        for phrase in (value.label, *value.forms):
            assert value.key in matcher.read(phrase).known, (value.key, phrase)


def _write_values(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(VALUES_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "values.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_a_value_without_a_meaning_is_refused_naming_file_and_key(tmp_path: Path) -> None:
    path = _write_values(tmp_path, lambda raw: raw["values"][3].pop("meaning"))
    with pytest.raises(ContentError) as error:
        load_values_content(path, VALUES_TEXTS_FILE)
    assert error.value.path == str(path)
    assert error.value.key == "values[3].meaning"


def test_a_label_too_long_for_a_button_is_refused(tmp_path: Path) -> None:
    def change(raw):
        raw["values"][0]["label"] = "A value with a very long name indeed"

    with pytest.raises(ContentError, match=r"values\[0\]\.label"):
        load_values_content(_write_values(tmp_path, change), VALUES_TEXTS_FILE)


def test_yaml_booleans_in_word_lists_are_caught(tmp_path: Path) -> None:
    """An unquoted `no` in YAML is False, not the word "no": the loader must say so."""

    def change(raw):
        raw["done_words"].append(False)

    with pytest.raises(ContentError, match="done_words"):
        load_values_content(_write_values(tmp_path, change), VALUES_TEXTS_FILE)


def test_a_text_with_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    raw = yaml.safe_load(VALUES_TEXTS_FILE.read_text(encoding="utf-8"))
    raw["ask_consistency"] = "How much room has {valu} had?"
    texts_path = tmp_path / "texts.yml"
    texts_path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_values_content(VALUES_FILE, texts_path)
    assert error.value.key == "ask_consistency"
    assert "valu" in str(error.value)
