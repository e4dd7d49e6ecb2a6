"""Every repository function on SQLite and PostgreSQL, each write read back in a new session."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot.journal import repository as repo
from bot.journal.db import session_scope
from bot.journal.errors import JournalNotFound
from bot.journal.identity import pseudonym
from bot.journal.inputs import RoleplayReplyIn, ValueRatingIn
from bot.journal.models import AiNotice, User, ValueRating
from tests.conftest import user_who_agreed


def test_get_or_create_user_is_stable_and_pseudonymous(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        first = repo.get_or_create_user(session, "telegram", "4242")
    with session_scope(journal_url) as session:
        again = repo.get_or_create_user(session, "telegram", "4242")
        other_channel = repo.get_or_create_user(session, "rest", "4242")
        stored = session.execute(sa.select(User.pseudonym).order_by(User.id)).scalars().all()

    assert again.id == first.id
    assert other_channel.id != first.id
    assert first.pseudonym == pseudonym("telegram", "4242")
    assert len(first.pseudonym) == 64 and "4242" not in stored
    # None: never asked, which keeps nothing, as a "no" does.
    assert first.journal_consent is None and first.region is None
    assert first.created_at.tzinfo is not None and first.created_at.utcoffset() == timedelta(0)


def test_get_or_create_user_from_two_threads_makes_one_user(journal_url: str) -> None:
    barrier = threading.Barrier(2)
    ids: list[int] = []

    def create() -> None:
        barrier.wait()
        with session_scope(journal_url) as session:
            ids.append(repo.get_or_create_user(session, "rest", "same-new-sender").id)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with session_scope(journal_url) as session:
        count = session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one()
    assert len(ids) == 2 and ids[0] == ids[1]
    assert count == 1


def test_find_user_does_not_create(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        assert repo.find_user(session, "rest", "nobody") is None
        created = user_who_agreed(session, "rest", "somebody")
    with session_scope(journal_url) as session:
        assert repo.find_user(session, "rest", "nobody") is None
        assert repo.find_user(session, "rest", "somebody").id == created.id


def test_set_region_and_consent_persist(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "u1")
        created_updated_at = user.updated_at
        repo.set_region(session, user, " UK ")
        repo.set_consent(session, user, True)
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "u1")
        assert (user.region, user.journal_consent) == ("UK", True)
        assert user.updated_at >= created_updated_at
        repo.set_region(session, user, None)
        repo.set_consent(session, user, False)
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "u1")
        assert (user.region, user.journal_consent) == (None, False)


def test_value_ratings_show_change_between_sittings(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "values")
        rows = repo.save_value_ratings(
            session,
            user,
            "relationships",
            [ValueRatingIn("Honesty", 9, 4), ValueRatingIn("playfulness", 6, 6, own_word=True)],
        )
        assert rows[0].created_at == rows[1].created_at  # one sitting, one time
        first_time = rows[0].created_at
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "values")
        repo.save_value_ratings(session, user, "relationships", [ValueRatingIn("honesty", 9, 7)])
        repo.save_value_ratings(session, user, "work", [ValueRatingIn("Honesty", 7, 7)])
    with session_scope(journal_url) as session:
        views = repo.latest_values(session, repo.find_user(session, "rest", "values"))
        total = session.execute(sa.select(sa.func.count()).select_from(ValueRating)).scalar_one()

    assert total == 4
    by_key = {(view.life_area, view.value.casefold()): view for view in views}
    assert set(by_key) == {
        ("relationships", "honesty"),
        ("relationships", "playfulness"),
        ("work", "honesty"),
    }
    honesty = by_key[("relationships", "honesty")]
    assert (honesty.importance, honesty.consistency) == (9, 7)
    assert (honesty.previous_importance, honesty.previous_consistency) == (9, 4)
    assert honesty.previous_rated_at == first_time and honesty.rated_at > first_time
    assert honesty.gap == 2
    playfulness = by_key[("relationships", "playfulness")]
    assert playfulness.own_word is True and playfulness.previous_importance is None
    assert by_key[("work", "honesty")].previous_importance is None
    assert honesty.as_dict()["rated_at"] == honesty.rated_at.isoformat()


def test_committed_actions_can_be_listed_and_done(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "actions")
        first = repo.add_committed_action(session, user, "Call my sister on Sunday", "family")
        second = repo.add_committed_action(session, user, "Walk for ten minutes")
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "actions")
        done = repo.set_action_done(session, user, first.id)
        assert done.done is True and done.done_at is not None
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "actions")
        everything = repo.list_committed_actions(session, user)
        still_open = repo.list_committed_actions(session, user, include_done=False)
        other = user_who_agreed(session, "rest", "someone-else")
        with pytest.raises(JournalNotFound):
            repo.set_action_done(session, other, first.id)

    assert {action.id for action in everything} == {first.id, second.id}
    assert [action.id for action in still_open] == [second.id]
    assert second.value is None and first.value == "family"


def test_wise_mind_entries_keep_distress_and_note(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "wm")
        repo.add_wise_mind_entry(session, user, "stone flake", 8, 5, "Calmer after the lake.")
        repo.add_wise_mind_entry(session, user, "breathing wise mind", 6)
    with session_scope(journal_url) as session:
        entries = repo.list_wise_mind_entries(session, repo.find_user(session, "rest", "wm"))
        latest_only = repo.list_wise_mind_entries(
            session, repo.find_user(session, "rest", "wm"), limit=1
        )

    assert [entry.practice for entry in entries] == ["breathing wise mind", "stone flake"]
    assert (entries[1].distress_before, entries[1].distress_after) == (8, 5)
    assert entries[1].note == "Calmer after the lake."
    assert entries[0].distress_after is None and entries[0].note is None
    assert [entry.id for entry in latest_only] == [entries[0].id]


def _script_fields() -> dict[str, str]:
    return {
        "title": "Saying no to extra shifts",
        "describe": "You asked me to cover Saturday again.",
        "express": "I feel stretched thin.",
        "assertion": "I can't take this shift.",
        "reinforce": "I'll be more focused on my own days.",
        "priority": "self_respect",
    }


def test_boundary_scripts_save_get_update_list(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "bs")
        script = repo.save_boundary_script(session, user, **_script_fields())
        custom = repo.save_boundary_script(
            session, user, **{**_script_fields(), "title": "Mum"}, text="My own wording."
        )
    assert script.text.splitlines() == [
        "You asked me to cover Saturday again.",
        "I feel stretched thin.",
        "I can't take this shift.",
        "I'll be more focused on my own days.",
    ]
    assert custom.text == "My own wording."

    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "bs")
        updated = repo.update_boundary_script(
            session, user, script.id, assertion="I won't take this shift.", priority="relationship"
        )
        assert updated.updated_at >= script.updated_at
        retitled = repo.update_boundary_script(session, user, custom.id, title="Mum, Sundays")
    assert updated.text.splitlines()[2] == "I won't take this shift."
    assert updated.priority == "relationship"
    assert retitled.text == "My own wording."  # only the title changed

    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "bs")
        fetched = repo.get_boundary_script(session, user, script.id)
        listed = repo.list_boundary_scripts(session, user)
        stranger = user_who_agreed(session, "rest", "stranger")
        assert repo.get_boundary_script(session, stranger, script.id) is None
        assert repo.get_boundary_script(session, user, 999_999) is None
        with pytest.raises(JournalNotFound):
            repo.update_boundary_script(session, stranger, script.id, title="not yours")

    assert fetched.assertion == "I won't take this shift."
    assert {item.id for item in listed} == {script.id, custom.id}
    assert listed[0].id == custom.id  # most recently changed first


def test_reflections_newest_first(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "refl")
        repo.save_reflection(session, user, {"boundaries": 3, "identity": 2.5})
        repo.save_reflection(session, user, {"boundaries": 1, "identity": 2})
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "refl")
        results = repo.latest_reflections(session, user)
        one = repo.latest_reflections(session, user, limit=1)

    assert [result.scores for result in results] == [
        {"boundaries": 1, "identity": 2},
        {"boundaries": 3, "identity": 2.5},
    ]
    assert [result.id for result in one] == [results[0].id]


def test_roleplay_sessions_keep_replies_in_order(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "rp")
        saved = repo.save_roleplay_session(
            session,
            user,
            "friend_asks_money",
            "gentle",
            "held_boundary",
            [
                (
                    "Sorry, sorry, maybe I could...",
                    "passive",
                    {"apologies": 2, "hedges": ["maybe"]},
                ),
                RoleplayReplyIn("No, I can't lend money this month.", "assertive", None),
                ("No.", "assertive"),
            ],
        )
        repo.save_roleplay_session(session, user, "boss_extra_shift", "firm", "gave_in", [])
    with session_scope(journal_url) as session:
        sessions = repo.list_roleplay_sessions(session, repo.find_user(session, "rest", "rp"))

    assert [record.scenario_id for record in sessions] == ["boss_extra_shift", "friend_asks_money"]
    replies = sessions[1].replies  # loaded eagerly: readable after the session closed
    assert sessions[1].id == saved.id
    assert [reply.position for reply in replies] == [0, 1, 2]
    assert [reply.label for reply in replies] == ["passive", "assertive", "assertive"]
    assert replies[0].features == {"apologies": 2, "hedges": ["maybe"]}
    assert replies[1].features is None and replies[2].text == "No."
    assert sessions[0].replies == []


def test_summary_tells_what_is_remembered(journal_url: str) -> None:
    import json

    with session_scope(journal_url) as session:
        empty = repo.summary(session, user_who_agreed(session, "rest", "new"))
        user = user_who_agreed(session, "rest", "sum")
        repo.set_region(session, user, "US")
        repo.save_value_ratings(session, user, "health", [ValueRatingIn("rest", 8, 3)])
        done = repo.add_committed_action(session, user, "Sleep by eleven", "rest")
        repo.add_committed_action(session, user, "Say no to one late call", "rest")
        repo.set_action_done(session, user, done.id)
        repo.add_wise_mind_entry(session, user, "spiral staircase", 7, 4, "private note")
        repo.save_boundary_script(session, user, **_script_fields())
        repo.save_reflection(session, user, {"reciprocity": 2})
        repo.save_roleplay_session(session, user, "s1", "gentle", "held_boundary", [])
    with session_scope(journal_url) as session:
        result = repo.summary(session, repo.find_user(session, "rest", "sum"))

    assert empty["values"] == [] and empty["wise_mind"] == {"entries": 0, "last": None}
    assert empty["reflection"] is None and empty["roleplay"] == {"sessions": 0, "last": None}
    json.dumps(result)  # an action can put it in a slot or a message as it is
    assert result["region"] == "US"
    assert [(v["value"], v["importance"], v["consistency"]) for v in result["values"]] == [
        ("rest", 8, 3)
    ]
    assert [action["text"] for action in result["open_actions"]] == ["Say no to one late call"]
    assert result["done_actions"] == 1
    assert result["wise_mind"]["entries"] == 1
    assert result["wise_mind"]["last"]["practice"] == "spiral staircase"
    assert "note" not in result["wise_mind"]["last"]
    assert [script["title"] for script in result["boundary_scripts"]] == [
        "Saying no to extra shifts"
    ]
    assert result["reflection"]["scores"] == {"reciprocity": 2}
    assert result["roleplay"]["sessions"] == 1
    assert result["roleplay"]["last"]["outcome"] == "held_boundary"


def test_table_counts_count_rows_only(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "counts")
        repo.add_committed_action(session, user, "one")
        repo.add_committed_action(session, user, "two")
    with session_scope(journal_url) as session:
        counts = repo.table_counts(session)

    assert counts["users"] == 1 and counts["committed_actions"] == 2
    assert counts["roleplay_replies"] == 0
    assert "events" not in counts  # Rasa has not created its table in this database


def test_safety_plan_saved_replaced_edited_and_exported(journal_url: str) -> None:
    steps = {
        "warning_signs": ["can't sleep"],
        "coping": ["a walk", "music"],
        "social": [],
        "helpers": ["Mia, 07700 900123"],
        "professionals": [],
    }
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "planner")
        repo.save_safety_plan(session, user, steps, "helper")
    with session_scope(journal_url) as session:
        assert repo.safety_plan_of(session, "rest", "planner") == {
            **steps,
            "surroundings": "helper",
        }
        assert repo.safety_plan_of(session, "rest", "someone-else") is None
        user = repo.find_user(session, "rest", "planner")
        repo.update_safety_plan_step(session, user, "helpers", ["Jo 07700 900999"])
        repo.save_safety_plan(session, user, {**steps, "coping": ["bath"]}, None)
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "planner")
        plan = repo.safety_plan_of(session, "rest", "planner")
        assert plan["coping"] == ["bath"] and plan["surroundings"] is None
        assert session.execute(sa.text("SELECT count(*) FROM safety_plans")).scalar_one() == 1
        assert repo.summary(session, user)["safety_plan"]["steps_filled"] == 3
        export = repo.export_user(session, "rest", "planner")
        assert [row["coping"] for row in export["safety_plans"]] == [["bath"]]
        counts = repo.delete_user(session, "rest", "planner")
    assert counts["safety_plans"] == 1
    with session_scope(journal_url) as session:
        assert session.execute(sa.text("SELECT count(*) FROM safety_plans")).scalar_one() == 0


def test_safety_plan_refuses_without_consent_and_bad_input(journal_url: str) -> None:
    from bot.journal.errors import JournalConsentMissing, JournalInputError

    with session_scope(journal_url) as session:
        user = repo.get_or_create_user(session, "rest", "undecided")
        with pytest.raises(JournalConsentMissing):
            repo.save_safety_plan(session, user, {}, None)
        repo.set_consent(session, user, True)
        with pytest.raises(JournalInputError):
            repo.save_safety_plan(session, user, {"coping": ["x" * 201]}, None)
        with pytest.raises(JournalInputError):
            repo.save_safety_plan(session, user, {"coping": list("abcdefg")}, None)
        with pytest.raises(JournalInputError):
            repo.save_safety_plan(session, user, {}, "a detail in words")
        with pytest.raises(JournalNotFound):
            repo.update_safety_plan_step(session, user, "coping", ["walk"])


def test_ai_notice_times_are_kept_by_pseudonym_and_overwritten(journal_url: str) -> None:
    first = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    later = first + timedelta(hours=4)
    with session_scope(journal_url) as session:
        assert repo.ai_notice_of(session, "rest", "rest:ana") is None
        repo.record_ai_notice(
            session,
            "rest",
            "rest:ana",
            last_seen_at=first,
            conversation_since=first,
            last_notice_at=first,
        )
    with session_scope(journal_url) as session:  # a second write is an update, not a clash
        repo.record_ai_notice(
            session,
            "rest",
            "rest:ana",
            last_seen_at=later,
            conversation_since=first,
            last_notice_at=None,
        )
    with session_scope(journal_url) as session:
        row = repo.ai_notice_of(session, "rest", "rest:ana")
        keys = session.execute(sa.select(AiNotice.pseudonym)).scalars().all()
    assert (row.last_seen_at, row.conversation_since, row.last_notice_at) == (later, first, None)
    assert keys == [pseudonym("rest", "rest:ana")]
