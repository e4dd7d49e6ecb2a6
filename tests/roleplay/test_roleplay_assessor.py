"""The assessor on tricky replies, odd input, and the labelled set (macro-F1 >= 0.85)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import roleplay
from bot.roleplay.assessor import FEATURES, PATTERNS_PATH, Assessor, PatternSet, assess
from bot.roleplay.content import ContentError
from bot.roleplay.evaluate import evaluate, load_labelled
from tests.conftest import BrokenCopy

HERE = Path(__file__).parent
SHIFT = "Hey, can you cover my shift on Saturday? I've got something on."


def test_a_no_with_one_apology_is_assertive() -> None:
    verdict = assess("Sorry, I can't cover Saturday.", SHIFT)
    assert verdict.label == "assertive"
    assert verdict.features["clear_no"] and verdict.features["apology"]
    assert not verdict.features["over_justification"]
    assert verdict.evidence["apology"] == ["Sorry"]


def test_one_short_reason_does_not_spoil_a_no() -> None:
    verdict = assess("No, I can't, I'm working that day.", SHIFT)
    assert verdict.label == "assertive"


def test_love_to_but_with_stacked_reasons_is_partial() -> None:
    reply = (
        "I'm so so sorry, I'd love to but I really can't because work is crazy "
        "and my mom is visiting and I'm exhausted"
    )
    verdict = assess(reply, SHIFT)
    assert verdict.label == "partial"
    assert verdict.features["clear_no"]
    assert verdict.features["over_justification"]
    assert len(verdict.evidence["over_justification"]) >= 2


def test_stacked_apologies_bury_a_no() -> None:
    assert assess("Sorry, sorry, I can't, I feel really bad.").label == "partial"


@pytest.mark.parametrize("reply", ["ugh fine", "ok fine", "sure whatever you want", "Fine."])
def test_giving_in_is_passive(reply: str) -> None:
    verdict = assess(reply, SHIFT)
    assert verdict.label == "passive"
    assert verdict.stance == "give_in"
    assert not verdict.features["clear_no"]


# Replies that read as ``label``, with each of ``present`` found and none of ``absent``.
READINGS = {
    "hedging_is_passive": (
        "passive",
        {"hedge"},
        set(),
        ["Maybe? I'll see what I can do.", "I guess", "we'll see"],
    ),
    "plain_and_lowercase_nos_are_assertive": (
        "assertive",
        {"clear_no"},
        set(),
        [
            "no i cant do it",
            "i wont",
            "I'm not going to",
            "that doesn't work for me",
            "I'm going to pass",
            "not this time",
            "nope",
        ],
    ),
    "plain_compliance_is_passive_and_gives_in": (
        "passive",
        {"gives_in"},
        {"hostile"},
        ["sure, put me down", "okay, I'll sort it", "Of course! Drop him round whenever"],
    ),
    "a_warm_firm_refusal_is_assertive_with_validation": (
        "assertive",
        {"validation", "clear_no"},
        {"over_justification"},
        [
            "I know it matters to you, and I love you. I'm still not coming this year.",
            "I can see you're stuck. I'm not lending money, but I can help you look at options.",
            "That sounds stressful. My answer is no.",
        ],
    ),
    "a_refusal_that_negotiates_is_assertive": (
        "assertive",
        {"negotiates"},
        set(),
        [
            "I'm not doing all four mornings. If I take two, could you find someone for the "
            "others?",
            "I won't cover Saturday. Could we look at the rota together for next month?",
        ],
    ),
}


@pytest.mark.parametrize(
    ("reply", "label", "present", "absent"),
    [
        pytest.param(reply, label, present, absent, id=f"{name}-{reply}")
        for name, (label, present, absent, replies) in READINGS.items()
        for reply in replies
    ],
)
def test_a_reply_reads_as_its_label_with_its_features(
    reply: str, label: str, present: set[str], absent: set[str]
) -> None:
    verdict = assess(reply)
    assert verdict.label == label, reply
    assert all(verdict.features[name] for name in present), verdict.features
    assert not any(verdict.features[name] for name in absent), verdict.features


@pytest.mark.parametrize(
    "reply",
    [
        "oh sure, because I have nothing better to do",
        "Do I look like a bank to you? No.",
        "No, and you're being ridiculous.",
        "NO. STOP ASKING.",
    ],
)
def test_sarcasm_insults_and_shouting_are_aggressive(reply: str) -> None:
    verdict = assess(reply)
    assert verdict.label == "aggressive"
    assert verdict.features["hostile"]
    assert verdict.evidence["hostile"]


def test_rather_not_is_a_soft_but_clear_no() -> None:
    verdict = assess("I'd rather not.")
    assert verdict.label == "assertive"
    assert verdict.evidence["clear_no"]


def test_changing_your_mind_midway_is_passive_the_last_stance_wins() -> None:
    verdict = assess("no I can't... well ok maybe just this once", SHIFT)
    assert verdict.label == "passive"
    assert verdict.features["clear_no"]  # the no was said, then taken back
    assert verdict.stance == "give_in"


def test_finding_the_no_midway_counts_as_a_no() -> None:
    verdict = assess("Hmm, I don't know... actually no, I'm not going to.")
    assert verdict.features["clear_no"]
    assert verdict.stance == "refuse"
    assert verdict.label in ("assertive", "partial")


@pytest.mark.parametrize("reply", ["No problem!", "I can't wait!", "I have no money right now"])
def test_words_that_look_like_a_no_but_are_not(reply: str) -> None:
    assert not assess(reply).features["clear_no"], reply


def test_an_alternative_after_a_no_is_not_a_hedge() -> None:
    verdict = assess("I can't do Saturday, but maybe next week?")
    assert verdict.label == "assertive"
    assert verdict.features["alternative_offered"]
    assert not verdict.features["hedge"]


def test_skip_refuses_unless_the_request_asked_for_it() -> None:
    assert assess("I'll skip the party, thanks.", "Come to the party!").label == "assertive"
    asked = assess("ok I'll skip it", "Can you skip dinner with your friends tonight?")
    assert asked.label == "passive"


@pytest.mark.parametrize(
    "reply", ["", "   ", "😅🙃", "\x00\x01", "no " * 5000, "x" * 10_000, "Ça ne marche pas 🚫"]
)
def test_odd_input_never_raises(reply: str) -> None:
    verdict = assess(reply)
    assert verdict.label in roleplay.LABELS
    assert set(verdict.features) == set(FEATURES)
    assert all(isinstance(v, bool) for v in verdict.features.values())
    assert set(verdict.evidence) == set(FEATURES)


def test_non_string_input_never_raises() -> None:
    assert assess(None).label == "passive"  # type: ignore[arg-type]
    assert assess(12345).label == "passive"  # type: ignore[arg-type]


def test_to_dict_leaves_the_users_words_out_unless_asked() -> None:
    verdict = assess("No, I can't.")
    assert set(verdict.to_dict()) == {"label", "features"}
    assert verdict.to_dict(with_evidence=True)["evidence"]["clear_no"] == ["No", "I can't"]


@pytest.mark.parametrize(
    ("reply", "quoted"),
    [("not this time", "not this time"), ("Not now, Maya.", "Not now"), ("no, not today", "No")],
)
def test_a_clause_opening_not_is_quoted_with_its_words(reply: str, quoted: str) -> None:
    # The coach quotes this back ("\"not this time\" leaves no doubt"): a bare "not" reads oddly.
    assert assess(reply).evidence["clear_no"][0].lower() == quoted.lower()


def test_package_function_survives_importing_the_cli_module() -> None:
    import bot.roleplay.assess  # noqa: F401  (shadows the function name on the package)

    assert roleplay.assess("no").label == "assertive"


def test_labelled_set_macro_f1_is_at_least_0_85() -> None:
    replies = load_labelled(HERE / "replies.yml")
    assert len(replies) >= 200
    assert {r.label for r in replies} == set(roleplay.LABELS)
    report = evaluate(replies)
    assert report.macro_f1 >= 0.85, report.errors


def test_holdout_set_macro_f1_is_at_least_0_85() -> None:
    report = evaluate(load_labelled(HERE / "replies_holdout.yml"))
    assert report.macro_f1 >= 0.85, report.errors


def test_a_broken_pattern_file_names_the_file_and_key(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(PATTERNS_PATH, '    - "can not"\n', '    - "@nosuchset can not"\n')
    with pytest.raises(ContentError) as err:
        PatternSet(broken)
    assert str(broken) in str(err.value)
    assert "patterns.refusal[0]" in str(err.value)
    assert "@nosuchset" in str(err.value)


def test_a_bare_yes_in_a_word_list_is_caught(broken_copy: BrokenCopy) -> None:
    broken = broken_copy(PATTERNS_PATH, 'no_words: ["no",', "no_words: [no,")
    with pytest.raises(ContentError, match=r"words\.no_words\[0\].*quotes"):
        PatternSet(broken)


def test_the_assessor_can_be_built_from_a_pattern_file() -> None:
    from bot import spacy_pipeline

    assessor = Assessor(spacy_pipeline.load(), PatternSet())
    assert assessor.assess("Not this time.").label == "assertive"


# -- issue 16: contempt, compliance, warm refusals, negotiation, hesitation ---------------


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("Oh, so I'm your free taxi now? Good to know.", "Good to know"),
        ("Wow, a payment plan, how generous. No.", "how generous"),
        ("If it's so easy, do it yourself.", "do it yourself"),
        ("Your lack of planning is not my emergency.", "not my emergency"),
        ('lol "easy". sure, Helen', '"easy"'),
        ("Fine. I'll cancel. Again. Like I always do for you.", "Like I always"),
        ("Sure, and I'll pay your rent forever while I'm at it.", "while I'm at it"),
    ],
)
def test_contempt_without_swearing_is_aggressive_and_named(reply: str, words: str) -> None:
    verdict = assess(reply)
    assert verdict.label == "aggressive", verdict.evidence
    assert verdict.features["hostile"]
    assert any(words.lower() in said.lower() for said in verdict.evidence["hostile"])


def test_complaining_while_giving_in_is_aggressive_and_gives_in() -> None:
    verdict = assess("Fine, I'll do it. Not like anyone else ever does.")
    assert verdict.label == "aggressive"
    assert verdict.features["gives_in"] and verdict.features["hostile"]


def test_hesitating_before_the_no_buries_it() -> None:
    verdict = assess("Um... I... no, sorry, I can't.")
    assert verdict.label == "partial"
    assert verdict.features["hedge"] and verdict.features["clear_no"]


def test_same_input_same_verdict() -> None:
    reply = "Oh cool, didn't know I lived in a hostel."
    assert assess(reply) == assess(reply)
