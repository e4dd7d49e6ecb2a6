"""The form kit (bot/dialogue) on a small skill of its own: the traps it handles for every
exercise, hints that carry the question's buttons, quiet re-asks, and the one text loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue as kit
from bot.content import ContentError
from bot.dialogue.texts import BUTTON_TITLE_MAX, TextBook
from bot.dialogue.turns import answer_button
from tests.actions.sdk_forms import form_tracker

TEXTS = """
ask:
  toy_name: "What should I call it?"
  toy_score: "From 0 to 10, how much?"
hints:
  finish_this_first: "Let's finish this first."
  name_empty: "A word or two is enough."
  rating_out_of_range: "{number} is not on the scale."
  rating_missing: "A number, please."
  rating_several: "Just one number."
  rating_fraction: "A whole number."
buttons:
  skip: "Skip"
"""
SPEC = {"ask": {"toy_name": frozenset(), "toy_score": frozenset()}, "hints": {"name_empty": frozenset()}, "buttons": {"skip": frozenset()}}  # fmt: skip
FORM = "toy_form"
SKIP = answer_button("Skip", "skip")


@pytest.fixture(scope="module")
def toy_texts(tmp_path_factory: pytest.TempPathFactory) -> TextBook:
    path = tmp_path_factory.mktemp("toy") / "texts.yml"
    path.write_text(TEXTS, encoding="utf-8")
    return TextBook.for_skill(path, SPEC, ratings=True)


@pytest.fixture(scope="module")
def toy(toy_texts: TextBook) -> dict[str, Any]:
    toy_skill = kit.Skill("toy", lambda: toy_texts, form=FORM, slots=("toy_name", "toy_score"))
    calls: list[str] = []

    class AskToyName(kit.AskSlot):
        slot = "toy_name"
        skill = toy_skill

        def buttons(self, tracker: Any) -> list[dict[str, str]]:
            return [SKIP]

    (AskToyScore,) = kit.ask_actions(toy_skill, "toy_score")

    class ValidateToy(kit.ExerciseValidator):
        skill = toy_skill
        prefilled_slots = frozenset({"toy_score"})

        def validate_toy_name(self, answer: kit.Answer) -> dict[str, Any]:
            calls.append(answer.value)
            if not answer.text:
                answer.hint("hints.name_empty")
                return {"toy_name": None}
            if answer.text == "long story":
                answer.say("Thanks, noted.")
                return {"toy_name": None}
            return {"toy_name": answer.text}

        def validate_toy_score(self, answer: kit.Answer) -> dict[str, Any]:
            calls.append(answer.value)
            return {"toy_score": answer.rating()}

    return {"ask_name": AskToyName, "ask_score": AskToyScore, "validator": ValidateToy, "calls": calls}  # fmt: skip


def _tracker(text: str, requested: str | None, intent: str = "give_answer", **slots: Any) -> Any:
    return form_tracker("kit", "rest", FORM, slots, text=text, intent=intent, requested=requested)


def _validate(toy: dict, slot: str, value: Any, tracker: Any) -> tuple[dict, CollectingDispatcher]:
    toy["calls"].clear()
    dispatcher = CollectingDispatcher()
    result = getattr(toy["validator"](), f"validate_{slot}")(value, dispatcher, tracker, {})
    return result, dispatcher


def test_names_come_from_the_skill(toy: dict) -> None:
    assert toy["validator"]().name() == "validate_toy_form"
    assert toy["ask_name"]().name() == "action_ask_toy_name"
    assert toy["ask_score"]().name() == "action_ask_toy_score"
    assert toy["ask_score"].__name__ == "ActionAskToyScore"
    assert toy["ask_score"].__module__ == __name__


def test_an_answer_is_validated(toy: dict) -> None:
    result, dispatcher = _validate(toy, "toy_name", "Rex", _tracker("Rex", "toy_name"))
    assert result == {"toy_name": "Rex"}
    assert toy["calls"] == ["Rex"]
    assert dispatcher.messages == []


@pytest.mark.parametrize("value", [None, True, 7])
def test_cleared_slots_and_own_results_are_kept_unread(toy: dict, value: Any) -> None:
    result, dispatcher = _validate(toy, "toy_name", value, _tracker("ok", "toy_name"))
    assert result == {"toy_name": value}
    assert toy["calls"] == []
    assert dispatcher.messages == []


def test_a_slot_not_asked_is_kept_unread_on_resume(toy: dict) -> None:
    # Rasa re-validates what was filled before when a paused form comes back.
    tracker = _tracker("let's continue", None, intent="resume_exercise")
    result, dispatcher = _validate(toy, "toy_name", "Rex", tracker)
    assert result == {"toy_name": "Rex"}
    assert toy["calls"] == []
    assert dispatcher.messages == []


def test_a_prefilled_slot_is_validated_when_the_form_starts(toy: dict) -> None:
    tracker = _tracker("/start_toy", None, intent="start_toy")
    result, dispatcher = _validate(toy, "toy_score", "eleven", tracker)
    assert result == {"toy_score": None}
    assert toy["calls"] == ["eleven"]
    assert [m["text"] for m in dispatcher.messages] == ["eleven is not on the scale."]


def test_lets_continue_asks_again_in_full_without_a_word(toy: dict) -> None:
    tracker = _tracker("let's continue", "toy_name", intent="resume_exercise")
    result, dispatcher = _validate(toy, "toy_name", "let's continue", tracker)
    assert result == {"toy_name": None}
    assert toy["calls"] == []
    assert dispatcher.messages == []


def test_a_stray_button_is_not_stored_and_the_question_keeps_its_buttons(toy: dict) -> None:
    tracker = _tracker("/start_roleplay", "toy_name", intent="start_roleplay")
    result, dispatcher = _validate(toy, "toy_name", "/start_roleplay", tracker)
    assert result == {"toy_name": None, "form_hint": "toy_name"}
    assert toy["calls"] == []
    assert dispatcher.messages[0]["text"] == "Let's finish this first."
    assert dispatcher.messages[0]["buttons"] == [SKIP]


def test_a_hint_carries_the_questions_buttons_and_marks_the_slot(toy: dict) -> None:
    result, dispatcher = _validate(toy, "toy_name", "  ", _tracker("  ", "toy_name"))
    assert result == {"toy_name": None, "form_hint": "toy_name"}
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        ("A word or two is enough.", [SKIP])
    ]


def test_a_message_that_is_not_a_hint_leaves_the_question_in_full(toy: dict) -> None:
    tracker = _tracker("long story", "toy_name", form_hint="toy_name")
    result, dispatcher = _validate(toy, "toy_name", "long story", tracker)
    # The earlier hint is over: the mark is cleared, so the question is asked in full.
    assert result == {"toy_name": None, "form_hint": None}
    assert [m["text"] for m in dispatcher.messages] == ["Thanks, noted."]


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("minus three", "minus three is not on the scale."),
        ("a lot", "A number, please."),
        ("6 or 7", "Just one number."),
        ("6.5", "A whole number."),
    ],
)
def test_ratings_get_the_hint_for_what_was_wrong(toy: dict, typed: str, hint: str) -> None:
    result, dispatcher = _validate(toy, "toy_score", typed, _tracker(typed, "toy_score"))
    assert result == {"toy_score": None, "form_hint": "toy_score"}
    assert [m["text"] for m in dispatcher.messages] == [hint]


def _re_asked(slot: str, hinted: bool, bot_said: bool) -> Any:
    events = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "?"},
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": FORM},
    ]
    if bot_said:
        events.append({"event": "bot", "text": "A word or two is enough."})
    slots = {"form_hint": slot} if hinted else {}
    return form_tracker("kit", "rest", FORM, slots, requested=slot, events=events)


@pytest.mark.parametrize(
    ("hinted", "bot_said", "asked"),
    [(True, True, False), (False, True, True), (True, False, True), (False, False, True)],
)
def test_the_question_is_not_repeated_under_a_hint(
    toy: dict, hinted: bool, bot_said: bool, asked: bool
) -> None:
    dispatcher = CollectingDispatcher()
    toy["ask_name"]().run(dispatcher, _re_asked("toy_name", hinted, bot_said), {})
    expected = [{"text": "What should I call it?", "buttons": [SKIP]}] if asked else []
    assert [{"text": m["text"], "buttons": m["buttons"]} for m in dispatcher.messages] == expected


# --- the one text loader ------------------------------------------------------------------


def _load(tmp_path: Path, text: str, spec: dict, **kwargs: Any) -> TextBook:
    path = tmp_path / "texts.yml"
    path.write_text(text, encoding="utf-8")
    return TextBook.for_skill(path, spec, **kwargs)


def test_every_skill_needs_the_kits_hint(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as error:
        _load(tmp_path, "ask:\n  x: Hi\n", {"ask": {"x": frozenset()}})
    assert error.value.key == "hints.finish_this_first"
    assert str(tmp_path / "texts.yml") in str(error.value)


def test_the_rating_hints_only_where_a_skill_rates(tmp_path: Path) -> None:
    text = "hints:\n  finish_this_first: Later.\n"
    assert _load(tmp_path, text, {}).text("hints.finish_this_first") == "Later."
    with pytest.raises(ContentError, match="hints.rating_out_of_range"):
        _load(tmp_path, text, {}, ratings=True)


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("Hi {nmae}", "unknown placeholder"),
        ("Hi {}", "plain name"),
        ("Hi {name:>5}", "plain name"),
        ("Hi {name", "broken placeholder"),
    ],
)
def test_placeholders_are_checked(tmp_path: Path, written: str, problem: str) -> None:
    text = f'hints:\n  finish_this_first: Later.\nhello: "{written}"\n'
    with pytest.raises(ContentError, match=problem) as error:
        _load(tmp_path, text, {"hello": frozenset({"name"})})
    assert error.value.key == "hello"


def test_a_text_may_leave_out_a_placeholder(tmp_path: Path) -> None:
    text = 'hints:\n  finish_this_first: Later.\nhello: "Hi there"\n'
    assert _load(tmp_path, text, {"hello": frozenset({"name"})}).text("hello", name="x") == (
        "Hi there"
    )


def test_button_titles_fit_a_phone(tmp_path: Path) -> None:
    long = "x" * (BUTTON_TITLE_MAX + 1)
    text = f"hints:\n  finish_this_first: Later.\nbuttons:\n  go: {long}\n"
    with pytest.raises(ContentError, match="longer than 30") as error:
        _load(tmp_path, text, {"buttons": {"go": frozenset()}})
    assert error.value.key == "buttons.go"


def test_every_skill_loads_through_the_kit() -> None:
    from bot.exercises import reflection, scripts, values, voice_check, wise_mind
    from bot.roleplay import texts as roleplay_texts

    books = [
        values.values_content().texts,
        voice_check.voice_check_content().texts,
        reflection.reflection_content().texts,
        wise_mind.texts(),
        scripts.texts(),
        roleplay_texts.texts(),
    ]
    for book in books:
        assert isinstance(book, TextBook)
        assert book.text("hints.finish_this_first")
    assert {Path(book.path).name for book in books} == {"texts.yml"}
    assert len({Path(book.path).parent.name for book in books}) == len(books)


# --- a request for something else mid-exercise ---------------------------------------------


def _said(text: str, intent: str, confidence: float) -> Any:
    tracker = _tracker(text, "toy_name", intent=intent)
    tracker.latest_message["intent"]["confidence"] = confidence
    return tracker


def test_a_clear_request_is_heard_as_a_request_not_stored(toy: dict) -> None:
    tracker = _said("can you export my data", "export_my_data", 0.99)
    result, dispatcher = _validate(toy, "toy_name", "can you export my data", tracker)
    assert result == {"toy_name": None, "form_hint": "toy_name"}
    assert toy["calls"] == []
    [message] = dispatcher.messages
    assert "get a copy of your data" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/stop_exercise", "/resume_exercise"]


@pytest.mark.parametrize(
    ("intent", "confidence"),
    [("export_my_data", 0.6), ("share_feeling", 0.99), ("give_answer", 0.99)],
)
def test_an_unsure_or_other_reading_stays_an_answer(
    toy: dict, intent: str, confidence: float
) -> None:
    tracker = _said("my mum calls me every night", intent, confidence)
    result, _ = _validate(toy, "toy_name", "my mum calls me every night", tracker)
    assert result == {"toy_name": "my mum calls me every night"}


def test_a_forms_own_start_and_a_form_of_replies_stay_answers(toy: dict) -> None:
    validator = toy["validator"]
    tracker = _said("show me my journal", "show_journal", 0.99)
    try:
        validator.own_intents = frozenset({"show_journal"})
        result, _ = _validate(toy, "toy_name", "show me my journal", tracker)
        assert result == {"toy_name": "show me my journal"}
        validator.own_intents = frozenset()
        validator.hears_requests = False
        result, _ = _validate(toy, "toy_name", "show me my journal", tracker)
        assert result == {"toy_name": "show me my journal"}
    finally:
        validator.own_intents = frozenset()
        validator.hears_requests = True


def test_every_request_has_its_words() -> None:
    from bot.dialogue.texts import REQUEST_INTENTS, kit_texts

    for intent in REQUEST_INTENTS:
        assert kit_texts().text(f"requests.{intent}")
