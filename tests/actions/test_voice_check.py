""" "Whose voice is this?": questions, validation of each answer, the reflection, and the values
offered from the journal, on real trackers and a temporary SQLite journal."""

from __future__ import annotations

import functools

import pytest

from actions.values import ActionSaveValuesExercise
from actions.voice_check import (
    ActionAskVoiceSource,
    ActionAskVoiceValue,
    ActionAskVoiceWithout,
    ActionReflectVoiceCheck,
    ActionStartVoiceCheck,
    ValidateVoiceCheckForm,
)
from bot.exercises.voice_check import voice_check_content
from bot.journal import repository as journal
from bot.journal import session_scope
from tests.conftest import agree_to_keeping
from tests.exercises.dialogue import (
    SENDER,
    buttons,
    run_action,
    slot_values,
    texts,
    validate_answer,
)

FORM = "voice_check_form"
TEXTS = voice_check_content().texts


_validate = functools.partial(validate_answer, ValidateVoiceCheckForm, FORM)


def test_starting_again_clears_the_last_check() -> None:
    events, dispatcher = run_action(
        ActionStartVoiceCheck(), {"voice_topic": "a keyboard", "paused_exercise": FORM}
    )
    slots = slot_values(events)
    assert slots["voice_topic"] is None and slots["paused_exercise"] is None
    assert texts(dispatcher) == [TEXTS.text("intro")]


def test_the_source_question_quotes_the_topic_and_offers_five_buttons() -> None:
    _, dispatcher = run_action(ActionAskVoiceSource(), {"voice_topic": "a new keyboard."})
    assert texts(dispatcher) == [
        'Where did "a new keyboard" first come from, as far as you can tell?'
    ]
    assert [b["title"] for b in buttons(dispatcher)] == [
        "Myself",
        "Someone close to me",
        "Someone I follow online",
        "An ad",
        "Not sure",
    ]
    assert buttons(dispatcher)[2]["payload"] == '/give_answer{"answer": "creator"}'


@pytest.mark.parametrize("source", ["myself", "close", "creator", "ad", "unsure"])
def test_the_without_question_fits_the_source(source: str) -> None:
    _, dispatcher = run_action(
        ActionAskVoiceWithout(), {"voice_topic": "quit my job", "voice_source": source}
    )
    assert texts(dispatcher) == [TEXTS.text(f"ask_without.{source}", topic="quit my job")]


async def test_a_topic_is_kept_in_the_users_words() -> None:
    slots, _ = await _validate("voice_topic", "  buying the   protein powder ")
    assert slots == {"voice_topic": "buying the protein powder"}


@pytest.mark.parametrize("typed", ["/start_values_exercise", "???"])
async def test_no_topic_is_asked_again(typed: str) -> None:
    slots, dispatcher = await _validate("voice_topic", typed)
    assert slots == {"voice_topic": None, "form_hint": "voice_topic"}
    assert texts(dispatcher) == [TEXTS.text("hint_topic")]


async def test_a_source_button_and_a_typed_source() -> None:
    slots, _ = await _validate("voice_source", "/give_answer", candidate="ad")
    assert slots == {"voice_source": "ad"}
    slots, _ = await _validate("voice_source", "a streamer I watch every night")
    assert slots == {"voice_source": "creator"}


async def test_an_unclear_source_is_asked_again() -> None:
    slots, dispatcher = await _validate("voice_source", "banana")
    assert slots == {"voice_source": None, "form_hint": "voice_source"}
    assert texts(dispatcher) == [TEXTS.text("hint_source")]


async def test_the_feeling_without_the_voice_is_taken_as_said() -> None:
    slots, _ = await _validate("voice_without", "I'd probably not care about it")
    assert slots == {"voice_without": "I'd probably not care about it"}


@pytest.mark.parametrize(
    ("typed", "value"),
    [("Honesty", "honesty"), ("being free", "freedom"), ("saving money", "saving money")],
)
async def test_a_value_button_or_typed_value(typed: str, value: str) -> None:
    slots, _ = await _validate("voice_value", typed)
    assert slots == {"voice_value": value}


async def test_a_sentence_is_not_a_value() -> None:
    slots, dispatcher = await _validate(
        "voice_value", "whatever lets me stop worrying about what everyone thinks of me"
    )
    assert slots == {"voice_value": None, "form_hint": "voice_value"}
    assert texts(dispatcher) == [TEXTS.text("hint_value")]


async def test_the_effect() -> None:
    slots, _ = await _validate("voice_effect", "it goes against it")
    assert slots == {"voice_effect": "crowds"}
    slots, dispatcher = await _validate("voice_effect", "banana")
    assert slots == {"voice_effect": None, "form_hint": "voice_effect"}
    assert texts(dispatcher) == [TEXTS.text("hint_effect")]


def test_without_saved_values_the_value_is_typed(journal_db: str) -> None:
    _, dispatcher = run_action(ActionAskVoiceValue(), {})
    assert texts(dispatcher) == [TEXTS.text("ask_value_typed")]
    assert buttons(dispatcher) == []


def test_saved_values_are_offered_as_buttons(journal_db: str) -> None:
    agree_to_keeping(journal_db, "rest", SENDER)
    run_action(
        ActionSaveValuesExercise(),
        {
            "value_area": "all",
            "top_values": ["honesty", "time outdoors"],
            "value_ratings": [
                {"value": "honesty", "importance": 9, "consistency": 3},
                {"value": "time outdoors", "importance": 6, "consistency": 2},
            ],
            "committed_action": "walk in the park on Saturday",
        },
    )
    _, dispatcher = run_action(ActionAskVoiceValue(), {})
    assert texts(dispatcher) == [TEXTS.text("ask_value_saved")]
    assert [b["title"] for b in buttons(dispatcher)] == ["Honesty", "time outdoors"]


def test_an_unreachable_journal_falls_back_to_typing(unreachable_journal: str) -> None:
    _, dispatcher = run_action(ActionAskVoiceValue(), {})
    assert texts(dispatcher) == [TEXTS.text("ask_value_typed")]


ANSWERS = {
    "voice_topic": "a new mechanical keyboard",
    "voice_source": "creator",
    "voice_without": "I'd probably not care about it",
    "voice_value": "saving money",
    "voice_effect": "crowds",
}


def test_the_reflection_is_built_from_the_answers_and_offers_two_next_steps(
    journal_db: str,
) -> None:
    _, dispatcher = run_action(ActionReflectVoiceCheck(), ANSWERS)
    reflection, offer = texts(dispatcher)
    assert TEXTS.text("reflection_source.creator") in reflection
    assert '"I\'d probably not care about it"' in reflection
    assert "crowd out saving money" in reflection
    assert offer == TEXTS.text("offer")
    assert [b["payload"] for b in buttons(dispatcher)] == [
        "/start_values_exercise",
        "/start_wise_mind",
    ]
    # The journal has no place for voice checks: nothing is written, not even a user row.
    with session_scope(journal_db) as session:
        assert journal.table_counts(session)["users"] == 0
