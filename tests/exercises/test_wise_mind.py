"""Wise-mind practice helpers: ratings, choosing a practice without repeats, pacing words."""

import random
from pathlib import Path

import pytest

from bot.content import ContentError
from bot.dialogue.turns import asked_again_after_answer, hint_already_given, is_other_payload
from bot.exercises import wise_mind as wm


@pytest.fixture(scope="module")
def book() -> wm.PracticeBook:
    return wm.load_practices()


def test_the_shipped_practices(book: wm.PracticeBook) -> None:
    ids = [practice.id for practice in book.practices]
    assert {"breathing", "stone", "question"} <= set(ids)
    assert len(ids) == len(set(ids))
    for practice in book.practices:
        assert len(practice.steps) >= 3
        assert len(practice.title) <= 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Breathe in wise, out mind", "breathing"),
        ("A stone sinking in a lake", "stone"),
        ("the stone one", "stone"),
        ("ask wise mind a question", "question"),
        ("stairs please", "staircase"),
        ("the pause between breaths", "pause"),
        ("surprise me", wm.SURPRISE),
        ("you pick", wm.SURPRISE),
        ("I don't mind", wm.SURPRISE),
        ("hmm", None),
        ("", None),
    ],
)
def test_choosing_a_practice(book: wm.PracticeBook, text: str, expected: str | None) -> None:
    assert wm.choose_practice(text, book) == expected


def test_surprise_never_repeats_last_time(book: wm.PracticeBook) -> None:
    rng = random.Random(2026)
    for last in [p.id for p in book.practices]:
        picks = {wm.pick_surprise(book, last, rng).id for _ in range(60)}
        assert last not in picks
        assert len(picks) == len(book.practices) - 1


def test_surprise_without_history_can_pick_any(book: wm.PracticeBook) -> None:
    rng = random.Random(7)
    picks = {wm.pick_surprise(book, None, rng).id for _ in range(80)}
    assert picks == {p.id for p in book.practices}


def test_last_practice_is_not_offered(book: wm.PracticeBook) -> None:
    offered = [p.id for p in wm.offered_practices(book, "stone")]
    assert "stone" not in offered
    assert len(offered) == len(book.practices) - 1
    assert len(wm.offered_practices(book, None)) == len(book.practices)


def test_pacing_words(book: wm.PracticeBook) -> None:
    assert wm.wants_repeat("wait", book)
    assert wm.wants_repeat("can you say that again", book)
    assert not wm.wants_repeat("next", book)
    assert not wm.wants_repeat("ready", book)
    assert wm.wants_repeat("again please", book)
    # A thought typed at a step that happens to hold "again" moves the practice on.
    assert not wm.wants_repeat("whether to lend my brother money again", book)


def test_intro_choice() -> None:
    assert wm.intro_choice("/affirm", "affirm") == "more"
    assert wm.intro_choice("/deny", "deny") == "skip"
    assert wm.intro_choice("tell me more", "nlu_fallback") == "more"
    assert wm.intro_choice("skip to the practice", None) == "skip"
    assert wm.intro_choice("banana", None) is None


def test_note_skips() -> None:
    assert wm.is_note_skip("/deny", "deny")
    assert wm.is_note_skip("nothing really", None)
    assert wm.is_note_skip("No.", None)
    assert not wm.is_note_skip("It isn't my job to fix him", None)
    # "next" / "finish" typed after the last step's button is not a note to keep.
    assert wm.is_note_skip("next", None)
    assert wm.is_note_skip("Finish", None)
    assert not wm.is_note_skip("I'm done rescuing him", None)


def test_summary_direction() -> None:
    assert wm.distress_summary_key(7, 4) == "summary.lower"
    assert wm.distress_summary_key(5, 5) == "summary.same"
    assert wm.distress_summary_key(3, 6) == "summary.higher"


def test_texts_load() -> None:
    texts = wm.load_texts()
    assert "{" not in texts.text("summary.lower", before=7, after=3)


def test_a_practice_with_two_steps_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "practices.yml"
    broken.write_text(
        """
practices:
  - {id: a, title: A, keywords: [a], intro: hi, steps: [one, two, three], why: w}
  - {id: b, title: B, keywords: [b], intro: hi, steps: [one, two, three], why: w}
  - {id: c, title: C, keywords: [c], intro: hi, steps: [one, two], why: w}
surprise_words: [surprise]
repeat_words: [again]
""",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as info:
        wm.load_practices(broken)
    assert str(broken) in str(info.value)
    assert "practices[2].steps" in str(info.value)


def test_a_duplicate_practice_id_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "practices.yml"
    steps = "[one, two, three]"
    broken.write_text(
        f"""
practices:
  - {{id: a, title: A, keywords: [a], intro: hi, steps: {steps}, why: w}}
  - {{id: b, title: B, keywords: [b], intro: hi, steps: {steps}, why: w}}
  - {{id: a, title: C, keywords: [c], intro: hi, steps: {steps}, why: w}}
surprise_words: [surprise]
repeat_words: [again]
""",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match=r"practices\[2\]\.id.*used twice"):
        wm.load_practices(broken)


# --- the form's turns -----------------------------------------------------------------------


def _slot(name: str, value: object) -> dict:
    return {"event": "slot", "name": name, "value": value}


def _action(name: str) -> dict:
    return {"event": "action", "name": name}


def _answered(text: str, form: str, slot: str, value: object) -> list[dict]:
    """A turn: the user said ``text`` to ``form``'s question for ``slot``, the form set ``value``."""
    return [
        _action("action_listen"),
        {"event": "user", "text": text},
        _slot("requested_slot", slot),
        _action(form),
        _slot(slot, value),
    ]


def test_a_rejected_answer_is_a_re_ask() -> None:
    events = _answered("eleven", "wise_mind_form", "wm_distress_before", None)
    assert asked_again_after_answer(events, "wm_distress_before")


def test_the_next_question_is_not_a_re_ask() -> None:
    events = _answered("7", "wise_mind_form", "wm_distress_before", 7)
    assert not asked_again_after_answer(events, "wm_intro")


def test_after_why_or_resume_the_question_is_asked_in_full() -> None:
    for before in ("action_explain_wise_mind_step", "action_resume_exercise"):
        events = [
            _action("action_listen"),
            {"event": "user", "text": "why?"},
            _action(before),
            _slot("requested_slot", "wm_note"),
            _action("wise_mind_form"),
        ]
        assert not asked_again_after_answer(events, "wm_note")


def test_other_payloads_are_not_answers() -> None:
    allowed = frozenset({"affirm", "deny"})
    assert is_other_payload("/start_roleplay", "start_roleplay", allowed)
    assert not is_other_payload("/deny", "deny", allowed)
    assert not is_other_payload("next", "nlu_fallback", allowed)


def test_a_hint_counts_only_when_this_run_said_something() -> None:
    turn = _answered("let's continue", "boundary_form", "bs_describe", None)
    assert asked_again_after_answer(turn, "bs_describe")
    assert not hint_already_given(turn, "bs_describe")
    assert hint_already_given(
        [*turn, {"event": "bot", "text": "Could you say more?"}], "bs_describe"
    )
    # A message in the run before the next question (the explanation) does not silence it.
    explained = [*turn[:3], _action("wise_mind_form"), {"event": "bot", "text": "DBT..."}]
    assert not hint_already_given(explained, "wm_practice")
