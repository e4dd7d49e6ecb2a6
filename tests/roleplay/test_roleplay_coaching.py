"""Coaching that teaches (issue 16): skills named, heated words quoted, a turn tried again, and
the debrief's rewrite of the weakest reply from the user's own words."""

from __future__ import annotations

import copy
import re

import pytest

from bot import roleplay
from bot.roleplay.assessor import assess
from bot.roleplay.coaching import coaching
from bot.roleplay.rewrite import rewrite

PLAIN_NO = "No, I'm not going to do that."


def _skills_named(line: str) -> list[str]:
    return [name for name in coaching().skills.values() if name in line]


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w']+", text.lower()))


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ("I know this matters to you. I'm still not covering Saturday.", "assertive"),
        ("Sorry, sorry, I can't, I feel awful, I've got so much on.", "partial"),
        ("ok fine, I'll do it", "passive"),
        ("Maybe? I'll see.", "passive"),
        ("Oh, so I'm your free taxi now? Good to know.", "aggressive"),
        ("If it's so easy, do it yourself. No.", "aggressive"),
    ],
)
def test_each_labels_coaching_says_what_worked_and_what_to_try_naming_skills(
    reply: str, label: str
) -> None:
    state, _ = roleplay.start("cover_shift", "relentless", rng_seed=4)
    turn = roleplay.respond(state, reply)
    assert turn.assessment.label == label
    line, _, offer = turn.coach_line.partition("\n")
    assert line.startswith("Coach: ")
    # One sentence on what worked and one on what to try, each naming its skill.
    skills = [name for name in coaching().skills.values() for _ in range(line.count(name))]
    assert len(skills) == 2, line
    assert re.search(r"(DEAR MAN|GIVE|FAST)\)", line)
    # ... and an offer to try that turn again, with the words to type.
    assert turn.can_retry and "try again" in offer.lower()


@pytest.mark.parametrize(
    "reply",
    ["Oh, so I'm your free taxi now? Good to know.", 'lol "easy". sure', "NO. STOP ASKING."],
)
def test_an_aggressive_reply_is_never_called_so_without_its_words(reply: str) -> None:
    state, _ = roleplay.start("friend_favour", "firm", rng_seed=1)
    turn = roleplay.respond(state, reply)
    assert turn.assessment.label == "aggressive"
    quoted = turn.assessment.evidence["hostile"]
    assert quoted
    assert any(word.strip('"') in turn.coach_line for word in quoted)
    assert "Gentle (GIVE)" in turn.coach_line


def test_a_turn_can_be_tried_again_and_the_first_try_is_forgotten() -> None:
    state, opening = roleplay.start("lend_money", "relentless", rng_seed=3)
    first = roleplay.respond(state, "No, I can't lend money right now.")
    weak = roleplay.respond(first.state, "ugh, ok fine, I'll send it")
    assert weak.assessment.label == "passive"
    again = roleplay.retry(weak.state)
    assert not again.over and again.assessment is None
    assert again.coach_line.startswith("Coach: Okay, let's take that one again")
    # The persona says the line the user is answering once more.
    assert again.persona_lines == first.persona_lines[-1:]
    restored = {k: v for k, v in again.state.items() if k not in ("undo", "retries")}
    before = {k: v for k, v in first.state.items() if k not in ("undo", "retries")}
    assert restored == before
    assert again.state["retries"] == 1
    # Nothing of the weak reply is left: not in the log, not as the weakest reply.
    assert "send it" not in str(again.state)
    better = roleplay.respond(again.state, "No. Still no.")
    assert better.assessment.label == "assertive"
    assert [t["label"] for t in better.state["log"]] == ["assertive", "assertive"]


def test_only_the_last_reply_can_be_tried_again() -> None:
    state, _ = roleplay.start("cover_shift", "relentless", rng_seed=2)
    nothing = roleplay.retry(state)
    assert "no reply to redo" in nothing.coach_line and nothing.state == state
    turn = roleplay.respond(state, "maybe")
    once = roleplay.retry(turn.state)
    twice = roleplay.retry(once.state)
    assert "no reply to redo" in twice.coach_line
    assert twice.state["log"] == []


def test_a_finished_practice_offers_no_retry() -> None:
    state, _ = roleplay.start("cover_shift", "gentle", rng_seed=2)
    turn = roleplay.respond(state, "No, I can't.")
    assert turn.over and not turn.can_retry
    assert "try again" not in turn.coach_line.lower()
    assert roleplay.retry(turn.state).over


def test_the_debrief_quotes_the_strongest_line_and_rewrites_the_weakest() -> None:
    state, _ = roleplay.start("bake_sale", "relentless", rng_seed=8)
    replies = [
        "No, I can't run it this year.",
        "I'm so sorry, I really can't, work is crazy and my mum is visiting and I'm exhausted.",
        "Oh please, don't guilt-trip me with the kids. No, I'm not running it.",
    ]
    for reply in replies:
        state = roleplay.respond(state, reply).state
    report = roleplay.debrief(state)
    assert report.strongest_reply == replies[0]
    assert report.weakest_reply == replies[2]  # the jab needs the rewrite most
    assert report.rewrite == "No, I'm not running it."
    assert f'Your strongest line: "{replies[0]}"' in report.lines
    assert f'The line to work on: "{replies[2]}"' in report.lines
    assert 'In your own words, firmer: "No, I\'m not running it."' in report.lines


def test_every_reply_a_calm_no_means_nothing_to_rewrite() -> None:
    state, _ = roleplay.start("cover_shift", "relentless", rng_seed=5)
    for reply in ("No, I can't.", "No."):
        state = roleplay.respond(state, reply).state
    report = roleplay.debrief(state)
    assert report.weakest_reply is None and report.rewrite is None
    assert "Nothing to rewrite." in " ".join(report.lines)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Sorry, sorry, I can't, I feel awful.", "I can't."),
        (
            "I know it matters to you. Oh please, stop guilt-tripping me. No, I'm not coming.",
            "I know it matters to you. No, I'm not coming.",
        ),
        ("ok fine, I'll cover your shift", "I won't cover your shift."),
        ("Maybe, I'll see if I can cover it", "I can't cover it."),
        (
            "I can't do Saturday, sorry, sorry, but how about Sunday?",
            "I can't do Saturday. How about Sunday?",
        ),
        ("Um, I guess?", PLAIN_NO),
    ],
)
def test_the_rewrite_is_built_from_the_users_own_words(reply: str, expected: str) -> None:
    better = rewrite(assess(reply), PLAIN_NO)
    assert better == expected
    # Nothing is generated: every word comes from the reply, a fixed turn-round, or the plain no.
    turned = {"i", "we", "won't", "can't"}  # "I'll cover" -> "I won't cover"
    assert _words(better) <= _words(reply) | turned | _words(PLAIN_NO)


def test_a_calm_no_needs_no_rewrite() -> None:
    assert rewrite(assess("No. I said I can't."), PLAIN_NO) is None


def test_a_state_from_before_the_retry_is_upgraded() -> None:
    state, _ = roleplay.start("cover_shift", "firm", rng_seed=9)
    old = copy.deepcopy(state)
    old["v"] = 1
    for key in ("worst", "said", "undo", "retries"):
        old.pop(key)
    turn = roleplay.respond(old, "No, I can't.")
    assert turn.state["v"] == roleplay.engine.STATE_VERSION
    assert roleplay.debrief(turn.state).counts["clear_no"] == 1


def test_retry_words_are_typed_words_not_replies() -> None:
    text = coaching()
    assert text.asks_retry("Let me try that again!")
    assert text.asks_retry("try again")
    assert not text.asks_retry("No. Try asking someone else again.")
