"""Bad and unusual input: one policy on both databases, a clear error or exact storage."""

from __future__ import annotations

import pytest

from bot.journal import repository as repo
from bot.journal.db import session_scope
from bot.journal.errors import JournalInputError
from bot.journal.inputs import NOTE_LIMIT, ValueRatingIn
from tests.conftest import placeholder_script, user_who_agreed

EMOJI = "Felt 😌 after the lake 🌊, proud of myself 💪🏽 👩‍👩‍👧"
RTL = "הרגשתי רגוע יותר · شعرت بالهدوء بعد التمرين"


def test_note_of_100000_characters_is_refused_clearly(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "long")
        with pytest.raises(JournalInputError) as caught:
            repo.add_wise_mind_entry(session, user, "stone flake", 5, 3, "x" * 100_000)
    assert caught.value.field == "note"
    assert str(caught.value) == (
        f"note: is 100000 characters long; the journal keeps at most {NOTE_LIMIT}"
    )
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "long")
        assert repo.list_wise_mind_entries(session, user) == []


def test_note_at_the_limit_is_kept_whole(journal_url: str) -> None:
    note = "ab" * (NOTE_LIMIT // 2)
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "limit")
        repo.add_wise_mind_entry(session, user, "stone flake", 5, 3, note)
    with session_scope(journal_url) as session:
        [entry] = repo.list_wise_mind_entries(session, repo.find_user(session, "rest", "limit"))
    assert entry.note == note


def test_emoji_and_right_to_left_text_round_trip_exactly(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "telegram", "٣٤٥ 😀")
        repo.add_wise_mind_entry(session, user, "wise mind 🧘", 6, 2, EMOJI)
        repo.add_committed_action(session, user, RTL, value="שלום")
        repo.save_roleplay_session(session, user, "s1", "gentle", "held", [(RTL, "assertive")])
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "telegram", "٣٤٥ 😀")
        [entry] = repo.list_wise_mind_entries(session, user)
        [action] = repo.list_committed_actions(session, user)
        [roleplay] = repo.list_roleplay_sessions(session, user)
    assert (entry.practice, entry.note) == ("wise mind 🧘", EMOJI)
    assert (action.text, action.value) == (RTL, "שלום")
    assert roleplay.replies[0].text == RTL


def test_nul_bytes_are_removed_on_both_databases(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "nul\x00sender")
        repo.add_wise_mind_entry(session, user, "stone\x00 flake", 4, 2, "be\x00fore\x00")
        repo.save_roleplay_session(
            session,
            user,
            "s\x001",
            "gentle",
            "held",
            [("no\x00 thanks", "assertive", {"quote\x00": "a\x00b", "n": [1, "x\x00"]})],
        )
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "nul\x00sender")
        [entry] = repo.list_wise_mind_entries(session, user)
        [roleplay] = repo.list_roleplay_sessions(session, user)
    assert (entry.practice, entry.note) == ("stone flake", "before")
    assert roleplay.scenario_id == "s1"
    assert roleplay.replies[0].text == "no thanks"
    assert roleplay.replies[0].features == {"quote": "ab", "n": [1, "x"]}


def test_unpaired_surrogates_are_removed(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "surrogate")
        repo.add_committed_action(session, user, "half an emoji \ud83d here")
    with session_scope(journal_url) as session:
        [action] = repo.list_committed_actions(
            session, repo.find_user(session, "rest", "surrogate")
        )
    assert action.text == "half an emoji  here"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, u: repo.add_committed_action(s, u, "   \x00  "), "text"),
        (lambda s, u: repo.add_committed_action(s, u, None), "text"),
        (lambda s, u: repo.add_committed_action(s, u, 42), "text"),
        (lambda s, u: repo.add_wise_mind_entry(s, u, "lake", 11), "distress_before"),
        (lambda s, u: repo.add_wise_mind_entry(s, u, "lake", -1), "distress_before"),
        (lambda s, u: repo.add_wise_mind_entry(s, u, "lake", True), "distress_before"),
        (lambda s, u: repo.add_wise_mind_entry(s, u, "lake", 3, 7.5), "distress_after"),
        (lambda s, u: repo.add_wise_mind_entry(s, u, "x" * 81, 3), "practice"),
        (lambda s, u: repo.save_value_ratings(s, u, "work", []), "ratings"),
        (
            lambda s, u: repo.save_value_ratings(s, u, "work", [ValueRatingIn("care", 3, "7")]),
            "consistency",
        ),
        (
            lambda s, u: repo.save_value_ratings(
                s, u, "work", [ValueRatingIn("Care", 3, 3), ValueRatingIn("care ", 4, 4)]
            ),
            "value",
        ),
        (lambda s, u: repo.save_reflection(s, u, {}), "scores"),
        (lambda s, u: repo.save_reflection(s, u, {"identity": float("nan")}), "scores"),
        (lambda s, u: repo.save_reflection(s, u, {"identity": "high"}), "scores"),
        (
            lambda s, u: repo.save_roleplay_session(
                s, u, "s1", "gentle", "held", [("no", "assertive", {"x": float("inf")})]
            ),
            "features",
        ),
        (
            lambda s, u: repo.save_roleplay_session(
                s, u, "s1", "gentle", "held", [("no", "assertive", {"x": object()})]
            ),
            "features",
        ),
        (
            lambda s, u: repo.save_roleplay_session(
                s, u, "s1", "gentle", "held", [("n" * 5_001, "assertive")]
            ),
            "reply",
        ),
        (lambda s, u: repo.set_region(s, u, "R" * 33), "region"),
        (lambda s, u: repo.set_consent(s, u, "yes"), "journal_consent"),
        (lambda s, u: placeholder_script(s, u, priority="both"), "priority"),
        (lambda s, u: repo.get_or_create_user(s, "", "x"), "channel"),
        (lambda s, u: repo.get_or_create_user(s, "rest", ""), "sender_id"),
    ],
)
def test_invalid_input_raises_journal_input_error_and_stores_nothing(
    journal_url: str, call, field: str
) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "bad-input")
        with pytest.raises(JournalInputError) as caught:
            call(session, user)
        assert caught.value.field.startswith(field)
    with session_scope(journal_url) as session:
        counts = repo.table_counts(session)
    assert counts["users"] == 1
    assert sum(v for k, v in counts.items() if k != "deployment_keys") == 1
