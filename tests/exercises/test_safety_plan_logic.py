"""The safety plan's pure logic and content: items, skip, step 6, "edit step N", the texts, and
that asking for a plan is never itself read as a crisis."""

from __future__ import annotations

import re

import pytest
import yaml

from bot import safety
from bot.exercises import safety_plan as sp
from bot.journal import repository
from bot.journal.inputs import PLAN_ITEM_LIMIT, PLAN_ITEMS_MAX
from tests.exercises.dialogue import REPO_ROOT

NEW_INTENTS = ("start_safety_plan", "show_safety_plan", "edit_safety_plan", "pin_safety_plan")


def test_the_texts_load_with_every_key_and_short_buttons() -> None:
    book = sp.texts()
    assert all(len(book.text(k)) <= 30 for k in book.keys() if k.startswith("buttons."))
    assert "Stanley" in book.text("why.sp_warning_signs")


def test_the_limits_agree_with_the_journal() -> None:
    assert sp.ITEM_LIMIT == PLAN_ITEM_LIMIT
    assert sp.MAX_ITEMS == PLAN_ITEMS_MAX
    assert sp.SURROUNDINGS_CHOICES == repository.SURROUNDINGS_CHOICES
    assert tuple(s.field for s in sp.LIST_STEPS) == repository.PLAN_LIST_FIELDS


# Safe-messaging: none of the plan's words names or hints at a means of harm.
METHOD_WORDS = re.compile(
    r"\b(pills?|tablets?|overdose|medication|meds|knife|knives|blade|rope|gun|firearm|weapon|"
    r"poison|bridge|jump|hang|cut|razor|lethal|means)\b",
    re.IGNORECASE,
)


def test_no_text_of_the_plan_names_a_method() -> None:
    book = sp.texts()
    for key in book.keys():
        assert not METHOD_WORDS.search(book.template(key)), key


@pytest.mark.parametrize(
    ("answer", "step", "items"),
    [
        ("walk, music", 2, ("walk", "music")),
        ("• walk\n• music\n\n", 2, ("walk", "music")),
        ("1. walk\n2) music", 2, ("walk", "music")),
        ("walk; walk; Walk", 2, ("walk",)),
        ("Mia, 07700 900123; Dad, 07700 900456", 4, ("Mia, 07700 900123", "Dad, 07700 900456")),
        ("Samaritans, 116 123", 5, ("Samaritans, 116 123",)),
    ],
)
def test_an_answer_becomes_items(answer: str, step: int, items: tuple[str, ...]) -> None:
    assert sp.read_items(answer, sp.step(step)).items == items


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("x" * (sp.ANSWER_LIMIT + 1), "hints.too_long"),
        ("y" * (sp.ITEM_LIMIT + 1), "hints.item_too_long"),
        (", ".join("abcdefg"), "hints.too_many"),
        (" ,;\n ", "hints.empty"),
    ],
)
def test_an_answer_that_cannot_be_kept_says_why(answer: str, problem: str) -> None:
    reading = sp.read_items(answer, sp.step(1))
    assert reading.problem == problem and reading.items == ()


@pytest.mark.parametrize("text", ["skip", "SKIP!", "skip for now", "pass", "none", "that's all"])
def test_skip_words(text: str) -> None:
    assert sp.is_skip(text)


@pytest.mark.parametrize("text", ["skipping meals", "no sleep", "walk", ""])
def test_answers_that_are_not_a_skip(text: str) -> None:
    assert not sp.is_skip(text)


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("done", "done"),
        ("Yes, I've thought about it", "done"),
        ("I'll ask someone to help", "helper"),
        ("my friend will help", "helper"),
        ("Not yet", "later"),
        ("no", "later"),
        ("banana", None),
    ],
)
def test_step_six_choices(text: str, choice: str | None) -> None:
    assert sp.surroundings_choice(text) == choice


@pytest.mark.parametrize(
    ("text", "entity", "number"),
    [
        ("edit step 4", None, 4),
        ("change step three", None, 3),
        ("change the fourth step", None, 4),
        ("fix the 2nd one", None, 2),
        ("edit step 9", None, 9),
        ("update my warning signs", None, 1),
        ("add my gp to the plan", None, 5),
        ("edit my safety plan", None, None),
        ("/edit_safety_plan", "6", 6),
    ],
)
def test_the_step_to_edit(text: str, entity: str | None, number: int | None) -> None:
    assert sp.step_number(text, entity) == number


def test_the_summary_reads_as_one_short_message() -> None:
    plan = {
        "warning_signs": ["can't sleep"],
        "coping": ["a walk"],
        "social": [],
        "helpers": ["Mia, 07700 900123"],
        "professionals": ["Dr Patel (GP)"],
        "surroundings": "later",
    }
    text = sp.summary_text(plan, ["Call or text 988."])
    assert text.startswith(sp.texts().text("summary.title"))
    for s in sp.STEPS:
        assert f"{s.number}. {sp.texts().text(f'steps.{s.number}')}" in text
    assert "• Call or text 988.\n• Dr Patel (GP)" in text
    assert sp.texts().text("summary.surroundings_later") in text
    assert text.count(sp.texts().text("summary.skipped")) == 1
    assert len(text) < 1500


def test_the_crisis_addition_holds_steps_two_to_four_only() -> None:
    plan = {
        "warning_signs": ["can't sleep"],
        "coping": ["a walk"],
        "social": ["the library"],
        "helpers": ["Mia, 07700 900123"],
        "professionals": ["Dr Patel"],
        "surroundings": "done",
    }
    text = sp.crisis_text(plan)
    assert text.startswith(sp.texts().text("crisis.intro"))
    assert "• a walk" in text and "• the library" in text and "• Mia, 07700 900123" in text
    assert "can't sleep" not in text and "Dr Patel" not in text
    assert sp.crisis_text({**plan, "coping": [], "social": [], "helpers": []}) is None
    assert sp.crisis_text(None) is None


def _examples(intent: str) -> list[str]:
    data = yaml.safe_load((REPO_ROOT / "data" / "nlu" / "safety_plan.yml").read_text("utf-8"))
    block = next(item for item in data["nlu"] if item["intent"] == intent)
    return [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]


@pytest.mark.parametrize("intent", NEW_INTENTS)
def test_asking_for_a_plan_is_not_a_crisis(intent: str) -> None:
    examples = _examples(intent)
    assert len(examples) >= (15 if intent == "pin_safety_plan" else 25)
    fired = [text for text in examples if safety.detect(text).is_crisis]
    assert fired == []
