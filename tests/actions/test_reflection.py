"""The codependency / healthy-dependency reflection: statements, answers, the reflection, the
journal write and the change since last time, on real trackers and a temporary SQLite journal."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.reflection import (
    ActionAskReflectionDone,
    ActionReflectDependency,
    ActionStartDependencyReflection,
    ValidateDependencyReflectionForm,
)
from bot.exercises.reflection import reflection_content
from bot.journal import repository as journal
from bot.journal import session_scope
from tests.conftest import journal_kept_for
from tests.exercises.dialogue import (
    CHANNEL,
    SENDER,
    buttons,
    run_action,
    slot_values,
    texts,
    validate_answer,
)

FORM = "dependency_reflection_form"
CONTENT = reflection_content()
TEXTS = CONTENT.texts
# Answers in statement order (healthy, healthy, codependent, healthy, codependent, ...):
# identity healthy, boundaries mixed, feelings codependent, give and take mixed, care codependent.
MIXED_ANSWERS = [2, 2, 2, 1, 2, 0, 2, 0, 1, 1]


async def _validate(text: str, answers: list[int], candidate: Any = None) -> tuple[dict, Any]:
    slots = {"reflection_answers": answers}
    return await validate_answer(
        ValidateDependencyReflectionForm, FORM, "reflection_done", text, slots, candidate
    )


journal_db = journal_kept_for("rest", SENDER)


def _run(action: Any, slots: dict[str, Any]) -> tuple[list, CollectingDispatcher]:
    return run_action(action, slots, "often")


def test_it_starts_fresh_and_says_it_is_not_a_test() -> None:
    events, dispatcher = _run(ActionStartDependencyReflection(), {"reflection_answers": [1, 2]})
    assert slot_values(events) == {"reflection_done": None, "reflection_answers": None}
    assert "a reflection, not a test" in texts(dispatcher)[0]


def test_each_statement_is_asked_with_three_buttons() -> None:
    _, dispatcher = _run(ActionAskReflectionDone(), {"reflection_answers": [2, 1, 0]})
    assert texts(dispatcher) == [
        f'4 of 10: "{CONTENT.statements[3].text}"\nHow often is this true for you?'
    ]
    assert buttons(dispatcher) == [
        {"title": "Rarely", "payload": '/give_answer{"answer": "rarely"}'},
        {"title": "Sometimes", "payload": '/give_answer{"answer": "sometimes"}'},
        {"title": "Often", "payload": '/give_answer{"answer": "often"}'},
    ]


async def test_a_button_answer_is_kept_and_the_next_statement_follows() -> None:
    slots, dispatcher = await _validate("/give_answer", [2], candidate="sometimes")
    assert slots == {"reflection_answers": [2, 1], "reflection_done": None}
    assert dispatcher.messages == []


async def test_a_typed_answer_is_read() -> None:
    slots, _ = await _validate("most of the time", [])
    assert slots == {"reflection_answers": [2], "reflection_done": None}


async def test_an_unclear_answer_is_asked_again_without_losing_earlier_ones() -> None:
    slots, dispatcher = await _validate("7", [2, 0])
    assert slots == {"reflection_done": None, "form_hint": "reflection_done"}
    assert texts(dispatcher) == [TEXTS.text("hint_answer")]


async def test_the_tenth_answer_completes_the_form() -> None:
    slots, _ = await _validate("hardly ever", MIXED_ANSWERS[:9])
    assert slots == {"reflection_answers": MIXED_ANSWERS[:9] + [0], "reflection_done": True}


async def test_resuming_a_finished_reflection_keeps_it_finished() -> None:
    slots, dispatcher = await _validate("let's continue", MIXED_ANSWERS, candidate=True)
    assert slots == {"reflection_done": True}
    assert dispatcher.messages == []


def test_the_reflection_names_each_lean_says_it_is_no_diagnosis_and_is_saved(
    journal_db: str,
) -> None:
    _, dispatcher = _run(ActionReflectDependency(), {"reflection_answers": MIXED_ANSWERS})
    said = texts(dispatcher)
    dims = {d.key: d for d in CONTENT.dimensions}
    assert said[0] == "\n\n".join(
        [
            TEXTS.text("result_opening"),
            dims["identity"].lean["healthy"],
            dims["boundaries"].lean["mixed"],
            dims["emotional_responsibility"].lean["codependent"],
            dims["reciprocity"].lean["mixed"],
            dims["motivation"].lean["codependent"],
            TEXTS.text("disclaimer"),
        ]
    )
    assert "isn't a test or a diagnosis" in said[0]
    assert said[1] == TEXTS.text("saved")
    assert [b["payload"] for b in buttons(dispatcher)] == [
        "/start_wise_mind",
        "/start_values_exercise",
        "/start_boundary_script",
    ]
    with session_scope(journal_db) as session:
        user_row = journal.find_user(session, CHANNEL, SENDER)
        [saved] = journal.latest_reflections(session, user_row)
        assert saved.scores == {
            "identity": 0.0,
            "boundaries": 0.5,
            "emotional_responsibility": 1.0,
            "reciprocity": 0.5,
            "motivation": 0.75,
        }


def test_a_later_run_shows_what_changed(journal_db: str) -> None:
    _run(ActionReflectDependency(), {"reflection_answers": MIXED_ANSWERS})
    steadier = [2, 2, 0, 2, 0, 0, 0, 2, 0, 2]
    _, dispatcher = _run(ActionReflectDependency(), {"reflection_answers": steadier})
    said = texts(dispatcher)
    assert said[1] == (
        "Compared with last time:\n"
        "Boundaries: last time it was somewhere in between, now it leans towards the healthy side.\n"
        "Feelings: last time it leaned towards the codependent side, now it leans towards the "
        "healthy side.\n"
        "Give and take: last time it was somewhere in between, now it leans towards the healthy "
        "side.\n"
        "Why you care: last time it leaned towards the codependent side, now it leans towards the "
        "healthy side."
    )
    assert said[-1] == TEXTS.text("offer_all_healthy")
    with session_scope(journal_db) as session:
        user_row = journal.find_user(session, CHANNEL, SENDER)
        assert len(journal.latest_reflections(session, user_row)) == 2


def test_the_same_answers_again_say_nothing_moved(journal_db: str) -> None:
    _run(ActionReflectDependency(), {"reflection_answers": MIXED_ANSWERS})
    _, dispatcher = _run(ActionReflectDependency(), {"reflection_answers": MIXED_ANSWERS})
    assert texts(dispatcher)[1] == TEXTS.text("no_change")


def test_an_unreachable_journal_still_gives_the_reflection(unreachable_journal: str) -> None:
    _, dispatcher = _run(ActionReflectDependency(), {"reflection_answers": MIXED_ANSWERS})
    assert texts(dispatcher)[0].startswith(TEXTS.text("result_opening"))
    assert dispatcher.messages[1]["response"] == "utter_journal_unavailable"
    assert buttons(dispatcher)


def test_an_incomplete_set_of_answers_is_not_scored(journal_db: str) -> None:
    _, dispatcher = _run(ActionReflectDependency(), {"reflection_answers": [2, 2]})
    assert buttons(dispatcher) == [
        {"title": TEXTS.text("button_restart"), "payload": "/start_dependency_reflection"}
    ]
    with session_scope(journal_db) as session:
        assert journal.table_counts(session)["reflection_results"] == 0
