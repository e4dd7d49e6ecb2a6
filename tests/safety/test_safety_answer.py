"""Typed replies to "Are you safe right now?" are read as answers to it, erring towards "not safe".

These are the examples the word lists were written against (a development set). The figure that
predicts real use comes from the blind rounds scored by ``python -m bot.safety.evaluate_answers``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety.safety_answer import (
    DEFAULT_ANSWERS_PATH,
    Polarity,
    SafetyAnswer,
    SafetyAnswerReader,
    load_vocabulary,
    read_safety_answer,
)
from bot.safety.yaml_data import SafetyDataError
from tests.conftest import BrokenCopy

NOT_SAFE = [
    "no",
    "No.",
    "not really",
    "nope im not",
    "nah",
    "i'm not",
    "I’m not ok",
    "not okay at all",
    "i dont feel safe",
    "i do not know",
    "idk",
    "dunno honestly",
    "not sure",
    "maybe",
    "kinda",
    "i don't know if i'm safe",
    "...",
    "",
    "   ",
    "?",
    "😶",
    "hmm",
    "help",
    "please help me",
    "i'm scared",
    "he is outside my door",
    "nto really",
    "NOOO",
    "nein",
    "pas vraiment",
    "no estoy bien",
]
SAFE = [
    "yes",
    "Yes, I'm safe right now",
    "yeah",
    "yep im ok",
    "i'm fine",
    "im good",
    "i am safe",
    "i think so",
    "yeah for now",
    "for now yes",
    "all good",
    "im fien",
    "sfae",
    "🙂",
    "I'm not in danger",
    "no one is here, i am safe",
    "sí",
    "oui ça va",
    "ja",
]
UNCLEAR = [
    "ok",
    "👍",
    "okay",
    "thanks",
    "thank you",
    "why do you ask",
    "can we do the values exercise",
    "no im fine",
    "yes and no",
    "what",
    "the fire alarm went off",
]


def test_uncertainty_wins_over_a_safe_word() -> None:
    assert read_safety_answer("i think im safe but im not sure").answer is SafetyAnswer.NOT_SAFE


def test_a_real_word_is_not_corrected_into_an_answer() -> None:
    # "fire" is one letter from "fine", "save" from "safe": real words are left alone.
    assert read_safety_answer("fire").answer is SafetyAnswer.UNCLEAR
    assert read_safety_answer("save").answer is SafetyAnswer.UNCLEAR


def test_look_alike_letters_and_full_width_text_are_read() -> None:
    assert read_safety_answer("ｎｏ").answer is SafetyAnswer.NOT_SAFE
    assert read_safety_answer("n\u200bo").answer is SafetyAnswer.NOT_SAFE


def test_a_long_reply_with_the_answer_at_the_end() -> None:
    text = (
        "so i went outside for a bit and sat on the steps and my neighbour waved and i "
        "thought about calling my brother but i didnt, anyway to answer you honestly not really"
    )
    assert read_safety_answer(text).answer is SafetyAnswer.NOT_SAFE


def test_a_huge_reply_is_read_in_bounded_time() -> None:
    reading = read_safety_answer("yes " + "blah " * 200_000)
    assert reading.answer is SafetyAnswer.SAFE


def test_a_bare_yaml_boolean_in_the_word_lists_is_refused(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(DEFAULT_ANSWERS_PATH, '- "yes"', "- yes")
    with pytest.raises(SafetyDataError, match=r"phrases\.safe\[0\]"):
        load_vocabulary(broken)


def test_a_phrase_in_two_lists_is_refused(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(DEFAULT_ANSWERS_PATH, '- "nope"', '- "nope"\n    - "yes"')
    with pytest.raises(SafetyDataError, match="is also safe|is also not_safe"):
        load_vocabulary(broken)


def test_without_a_dictionary_typos_are_still_corrected() -> None:
    reader = SafetyAnswerReader(load_vocabulary())
    assert reader.read("nto really").answer is SafetyAnswer.NOT_SAFE


def test_folded_rounds_keep_their_floor() -> None:
    """Rounds already scored blind and then tuned on: a regression guard, not a measurement."""
    from bot.safety.evaluate_answers import SETS_DIR, score

    for path in sorted(SETS_DIR.glob("*.yml")):
        report = score(path)
        assert report.not_safe_read_as_safe == 0, path.name
        assert report.count("not_safe", "not_safe") >= 0.95 * report.count("not_safe"), path.name
        assert report.count("safe", "safe") >= 0.8 * report.count("safe"), path.name


def test_a_question_quoted_back_then_answered() -> None:
    assert read_safety_answer("am i safe?? lol no").answer is SafetyAnswer.NOT_SAFE
    assert read_safety_answer("what happens if i say no?").answer is (SafetyAnswer.UNCLEAR)


def test_a_story_then_the_answer_at_the_end() -> None:
    story = "he kicked the door in and i grabbed the kids and drove to my sisters. we are safe"
    assert read_safety_answer(story).answer is SafetyAnswer.SAFE
    assert read_safety_answer("i was fine earlier. not anymore").answer is SafetyAnswer.NOT_SAFE
    assert read_safety_answer("no. im fine").answer is SafetyAnswer.UNCLEAR


# -- the check-in question ("are you thinking about suicide?"): a yes means risk -------------

CHECK_IN = Polarity.YES_MEANS_RISK
CHECK_IN_RISK = [
    "yes",
    "Yes.",
    "yeah",
    "y",
    "yes i am",
    "i am",
    "i think so",
    "yeah kinda",
    "sometimes",
    "yes sometimes",
    "a little",
    "lately yes",
    "idk",
    "maybe",
    "not sure",
    "not yet",
    "i want to disappear",
    "i'm not going to do anything",
    "",
    "...",
    "hmm",
    "si",
    "oui",
]
CHECK_IN_NO_RISK = [
    "no",
    "No.",
    "nope",
    "nah",
    "n",
    "no i'm not",
    "im not",
    "i am not",
    "not really",
    "not at all",
    "of course not",
    "absolutely not",
    "never",
    "no never",
    "not anymore",
    "i'm fine",
    "nah i'm good",
    "no. im fine",
    "no, not really, just tired",
    "i don't have those thoughts",
    "no i am not suicidal",
    "nein",
    "non",
]
CHECK_IN_UNCLEAR = [
    "ok",
    "👍",
    "🙂",
    "why do you ask",
    "what if i say yes?",
    "thanks",
    "yes and no",
    "no lol",
    "can we do the values exercise",
]


# Each set above: the question its replies answer, and the answer every one of them must get.
SETS = {
    "not_safe": (NOT_SAFE, Polarity.YES_MEANS_SAFE, SafetyAnswer.NOT_SAFE),
    "safe": (SAFE, Polarity.YES_MEANS_SAFE, SafetyAnswer.SAFE),
    "unclear": (UNCLEAR, Polarity.YES_MEANS_SAFE, SafetyAnswer.UNCLEAR),
    "check_in_risk": (CHECK_IN_RISK, CHECK_IN, SafetyAnswer.NOT_SAFE),
    "check_in_no_risk": (CHECK_IN_NO_RISK, CHECK_IN, SafetyAnswer.SAFE),
    "check_in_unclear": (CHECK_IN_UNCLEAR, CHECK_IN, SafetyAnswer.UNCLEAR),
}


@pytest.mark.parametrize(
    ("text", "polarity", "expected"),
    [
        pytest.param(text, polarity, expected, id=f"{name}-{text}")
        for name, (texts, polarity, expected) in SETS.items()
        for text in texts
    ],
)
def test_every_reply_of_a_set_gets_its_answer(
    text: str, polarity: Polarity, expected: SafetyAnswer
) -> None:
    assert read_safety_answer(text, polarity).answer is expected


def test_the_polarity_turns_only_yes_and_no() -> None:
    # The same words, the two questions: a yes and a no turn; fine, distress and doubt do not.
    for text in ("yes", "nope", "i am not"):
        safety = read_safety_answer(text).answer
        check_in = read_safety_answer(text, CHECK_IN).answer
        assert {safety, check_in} == {SafetyAnswer.SAFE, SafetyAnswer.NOT_SAFE}, text
    for text in ("i'm fine", "i'm scared", "idk", "ok"):
        assert read_safety_answer(text).answer is read_safety_answer(text, CHECK_IN).answer


def test_a_turned_word_must_be_a_yes_or_no_of_the_lists(tmp_path: Path) -> None:
    broken = tmp_path / "answers.yml"
    source = Path("data/safety/safety_answers.yml").read_text(encoding="utf-8")
    broken.write_text(
        source.replace("  turned:\n", '  turned:\n    - "scared"\n', 1), encoding="utf-8"
    )
    with pytest.raises(SafetyDataError, match=r"check_in\.turned\[0\]"):
        load_vocabulary(broken)
