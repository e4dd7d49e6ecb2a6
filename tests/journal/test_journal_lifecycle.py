"""Export, erasure and retention, with Rasa's real tracker store writing to the same database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.journal import repository as repo
from bot.journal.db import engine_for, session_scope
from bot.journal.exports import render
from bot.journal.identity import pseudonym
from bot.journal.inputs import ValueRatingIn
from bot.journal.models import (
    BoundaryScript,
    CommittedAction,
    ReflectionResult,
    ReplyReport,
    RoleplayReply,
    RoleplaySession,
    SafetyPlan,
    User,
    ValueRating,
    WiseMindEntry,
    utcnow,
)
from tests.conftest import placeholder_script, user_who_agreed
from tests.journal.conftest import SaveTracker

CHANNEL = "telegram"
ALICE, BOB = "alice-7731", "bob-5520"  # raw sender ids, distinctive enough to grep for


def fill(url: str, sender_id: str) -> list[str]:
    """Store one of everything for ``sender_id``; returns the texts that were stored."""
    tag = f"[{sender_id}]"
    texts = {
        "value": f"courage{tag}",
        "area": f"friendship{tag}",
        "action": f"Text Sam back {tag}",
        "note": f"Felt steadier {tag} 🌿",
        "describe": f"You call late {tag}",
        "express": f"I get tired {tag}",
        "assertion": f"Please call before nine {tag}",
        "reinforce": f"I'll listen better {tag}",
        "title": f"Late calls {tag}",
        "dimension": f"boundaries{tag}",
        "scenario": f"late_call{tag}",
        "reply": f"No, not tonight {tag}",
        "helper": f"Mia, 07700 900123 {tag}",
        "report_note": f"That answer missed the point {tag}",
    }
    with session_scope(url) as session:
        user = user_who_agreed(session, CHANNEL, sender_id)
        repo.set_region(session, user, "UK")
        repo.set_consent(session, user, True)
        repo.save_value_ratings(session, user, texts["area"], [ValueRatingIn(texts["value"], 9, 5)])
        repo.save_value_ratings(session, user, texts["area"], [ValueRatingIn(texts["value"], 9, 7)])
        repo.add_committed_action(session, user, texts["action"], texts["value"])
        repo.add_wise_mind_entry(session, user, "stone flake", 7, 4, texts["note"])
        repo.save_boundary_script(
            session,
            user,
            title=texts["title"],
            describe=texts["describe"],
            express=texts["express"],
            assertion=texts["assertion"],
            reinforce=texts["reinforce"],
            priority="relationship",
        )
        repo.save_reflection(session, user, {texts["dimension"]: 3})
        repo.save_roleplay_session(
            session,
            user,
            texts["scenario"],
            "gentle",
            "held_boundary",
            [(texts["reply"], "assertive", {"hedges": 0, "echo": texts["reply"]})],
        )
        repo.save_safety_plan(session, user, {"helpers": [texts["helper"]]}, "helper")
        repo.save_reply_report(
            session,
            user,
            channel=CHANNEL,
            reply_id="utter_crisis_not_safe@2026-12-06T21:03:14.123Z",
            note=texts["report_note"],
            consent=True,
        )
    return list(texts.values())


def fill_both(
    url: str,
    save_tracker: SaveTracker,
    conversation: Callable[[str], list[Any]],
    alice_says: str,
) -> tuple[list[str], list[str]]:
    """Alice and Bob with one of everything and a conversation each (Alice's message is
    ``alice_says``); returns what was stored for Alice, then for Bob."""
    alice_texts = fill(url, ALICE)
    bob_texts = fill(url, BOB)
    save_tracker(ALICE, conversation(alice_says))
    save_tracker(BOB, conversation("Bob's own words [bob-says]"))
    return alice_texts, bob_texts


USER_TABLES = (
    ValueRating,
    CommittedAction,
    WiseMindEntry,
    BoundaryScript,
    ReflectionResult,
    SafetyPlan,
    ReplyReport,
)


def test_export_holds_everything_stored_about_the_sender(
    journal_url: str, save_tracker, conversation
) -> None:
    alice_texts, bob_texts = fill_both(
        journal_url, save_tracker, conversation, "I keep saying yes to everyone [alice-says]"
    )

    with session_scope(journal_url) as session:
        export = repo.export_user(session, CHANNEL, ALICE)
        user = repo.find_user(session, CHANNEL, ALICE)
        stored_ids = {
            model.__tablename__: set(
                session.execute(sa.select(model.id).where(model.user_id == user.id)).scalars()
            )
            for model in (*USER_TABLES, RoleplaySession)
        }
        reply_ids = set(
            session.execute(
                sa.select(RoleplayReply.id)
                .join(RoleplaySession)
                .where(RoleplaySession.user_id == user.id)
            ).scalars()
        )

    dumped = json.dumps(export, ensure_ascii=False)  # JSON-serialisable as it is
    for text in alice_texts:
        assert text in dumped
    for text in bob_texts:
        assert text not in dumped
    assert "bob-says" not in dumped and BOB not in dumped

    assert export["user"]["pseudonym"] == pseudonym(CHANNEL, ALICE)
    assert (export["user"]["region"], export["user"]["journal_consent"]) == ("UK", True)
    sections = {
        "value_ratings": "value_ratings",
        "committed_actions": "committed_actions",
        "wise_mind_entries": "wise_mind_entries",
        "boundary_scripts": "boundary_scripts",
        "reflections": "reflection_results",
        "roleplay_sessions": "roleplay_sessions",
        "safety_plans": "safety_plans",
        "reply_reports": "reply_reports",
    }
    for section, table in sections.items():
        assert {item["id"] for item in export[section]} == stored_ids[table], section
    assert len(export["value_ratings"]) == 2
    exported_replies = [r for s in export["roleplay_sessions"] for r in s["replies"]]
    assert {reply["id"] for reply in exported_replies} == reply_ids
    assert exported_replies[0]["features"]["hedges"] == 0

    events = export["conversation_events"]
    assert len(events) == len(conversation("x"))
    assert all(event["sender_id"] == ALICE for event in events)
    [uttered] = [event for event in events if event["type_name"] == "user"]
    assert uttered["data"]["text"] == "I keep saying yes to everyone [alice-says]"
    assert uttered["intent_name"] == "share_reflection"


def test_an_export_is_capped_keeping_the_newest_and_saying_what_it_left_out(
    journal_url: str, save_tracker, conversation
) -> None:
    turns = 60
    start = time.time() - 3600
    events = []
    for turn in range(turns):
        said = f"turn {turn:03d} [long-talker] " + "so much to say " * 20
        events += conversation(said, start=start + 10 * turn)
    save_tracker("rest:long-talker", events)
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "rest", "rest:long-talker")
        repo.add_committed_action(session, user, "call Sam [kept-action]")

    cap = 30_000
    with session_scope(journal_url) as session:
        export = repo.export_user(session, "rest", "rest:long-talker", max_bytes=cap)
        full = repo.export_user(session, "rest", "rest:long-talker", max_bytes=None)
    rendered = render(export)
    assert cap - 2_000 < len(rendered.encode("utf-8")) <= cap
    assert export["committed_actions"][0]["text"] == "call Sam [kept-action]"
    kept = export["conversation_events"]
    assert kept == full["conversation_events"][-len(kept) :], "the newest events, in order"
    assert "turn 059" in rendered and "turn 000" not in rendered
    limit = export["size_limit"]
    assert limit["complete"] is False and limit["max_bytes"] == cap
    assert limit["left_out"] == {"conversation_events": turns * 7 - len(kept)}
    assert f"{turns * 7 - len(kept):,} conversation events" in limit["note"]
    assert "python -m bot.journal export rest:long-talker" in limit["note"]
    assert len(full["conversation_events"]) == turns * 7 and full["size_limit"]["complete"]

    # Below the cap nothing is left out; a journal larger than the cap is cut too, newest kept.
    with session_scope(journal_url) as session:
        small = repo.export_user(session, "rest", "rest:long-talker", max_bytes=10_000_000)
        assert small["size_limit"] == {"max_bytes": 10_000_000, "complete": True}
        for n in range(100):
            repo.add_committed_action(session, user, f"step {n:03d} " + "x" * 300)
        crowded = repo.export_user(session, "rest", "rest:long-talker", max_bytes=cap)
    assert len(render(crowded).encode("utf-8")) <= cap
    assert crowded["committed_actions"][-1]["text"].startswith("step 099")
    assert crowded["conversation_events"] == []
    assert set(crowded["size_limit"]["left_out"]) == {"committed_actions", "conversation_events"}


def test_export_of_an_unknown_sender_is_empty_but_valid(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        export = repo.export_user(session, CHANNEL, "never-seen")
    assert export["user"] is None and export["conversation_events"] == []
    assert export["value_ratings"] == [] and export["roleplay_sessions"] == []
    json.dumps(export)


def test_delete_leaves_nothing_of_the_sender_anywhere(
    journal_url: str, save_tracker, conversation, all_rows_text
) -> None:
    alice_texts, bob_texts = fill_both(
        journal_url, save_tracker, conversation, "Alice's private words [alice-says]"
    )
    with session_scope(journal_url) as session:
        alice_id = repo.find_user(session, CHANNEL, ALICE).id

    with session_scope(journal_url) as session:
        counts = repo.delete_user(session, CHANNEL, ALICE)

    assert counts == {
        "pending_exports": 0,
        "ai_notices": 0,
        "nudges": 0,
        "roleplay_replies": 1,
        "value_ratings": 2,
        "committed_actions": 1,
        "wise_mind_entries": 1,
        "boundary_scripts": 1,
        "reflection_results": 1,
        "roleplay_sessions": 1,
        "safety_plans": 1,
        "reply_reports": 1,
        "users": 1,
        "events": len(conversation("x")),
    }
    # SQL over every table in the database, whoever created it.
    with engine_for(journal_url).connect() as connection:
        metadata = sa.MetaData()
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            for column, value in (("user_id", alice_id), ("sender_id", ALICE), ("id", alice_id)):
                if column in table.c and (column != "id" or table.name == "users"):
                    query = sa.select(sa.func.count()).where(table.c[column] == value)
                    assert connection.execute(query).scalar_one() == 0, table.name
    everything = all_rows_text(journal_url)
    for text in [*alice_texts, ALICE, pseudonym(CHANNEL, ALICE), "alice-says"]:
        assert text not in everything
    for text in [*bob_texts, BOB, pseudonym(CHANNEL, BOB), "bob-says"]:
        assert text in everything

    with session_scope(journal_url) as session:
        again = repo.delete_user(session, CHANNEL, ALICE)
    assert set(again.values()) == {0}


def test_delete_removes_the_conversation_of_a_sender_without_journal(
    journal_url: str, save_tracker, conversation
) -> None:
    save_tracker("talked-only", conversation("just chatting"))
    with session_scope(journal_url) as session:
        counts = repo.delete_user(session, "rest", "talked-only")
        assert repo.export_user(session, "rest", "talked-only")["conversation_events"] == []
    assert counts["events"] == len(conversation("x")) and counts["users"] == 0


def test_erasing_a_web_session_ends_it_and_keeps_nothing_that_names_it(
    journal_url: str, save_tracker, conversation, all_rows_text
) -> None:
    save_tracker("web:0123abcd", conversation("from the page"))
    with session_scope(journal_url) as session:
        assert not repo.session_ended(session, "web:0123abcd")
        repo.delete_user(session, "socketio", "web:0123abcd")
        repo.delete_user(session, "rest", "rest:not-a-session")
    with session_scope(journal_url) as session:
        assert repo.session_ended(session, "web:0123abcd")
        assert not repo.session_ended(session, "web:0123abce")
        assert not repo.session_ended(session, "rest:not-a-session")  # REST senders have no session
        repo.delete_user(session, "socketio", "web:0123abcd")  # asked twice: still one row
        assert repo.table_counts(session)["ended_sessions"] == 1
    assert "0123abcd" not in all_rows_text(journal_url)
    # A row goes once no token of its session can still be valid; another erasure clears it.
    with session_scope(journal_url) as session:
        later = utcnow() + repo.ENDED_SESSION_KEPT + timedelta(seconds=1)
        repo.end_session(session, "web:ffff0000", now=later)
        assert not repo.session_ended(session, "web:0123abcd")
        assert repo.session_ended(session, "web:ffff0000")


def test_deleting_a_user_row_cascades_to_every_entry(journal_url: str) -> None:
    """The foreign keys are the safety net under ``delete_user`` (SQLite needs its pragma)."""
    fill(journal_url, ALICE)
    with session_scope(journal_url) as session:
        session.execute(sa.delete(User.__table__))
    with session_scope(journal_url) as session:
        counts = repo.table_counts(session)
    # The deployment's secret fingerprint is not a user's; everything else is gone.
    assert counts.pop("deployment_keys") == 1
    assert set(counts.values()) == {0}


def _age(row: object, days: int) -> None:
    old = utcnow() - timedelta(days=days)
    for column in ("created_at", "updated_at"):
        if hasattr(row, column):
            setattr(row, column, old)


def test_purge_removes_only_what_is_older_than_the_cutoff(
    journal_url: str, save_tracker, conversation
) -> None:
    save_tracker("old-talker", conversation("long ago", start=time.time() - 100 * 86400))
    save_tracker("new-talker", conversation("just now"))
    with session_scope(journal_url) as session:
        gone = user_who_agreed(session, CHANNEL, "gone")  # only old entries
        mixed = user_who_agreed(session, CHANNEL, "mixed")  # old and new entries
        idle = user_who_agreed(session, CHANNEL, "idle")  # old user, nothing stored
        old_rows = [
            repo.add_committed_action(session, gone, "old step"),
            repo.add_wise_mind_entry(session, gone, "lake", 5),
            *repo.save_value_ratings(session, gone, "work", [ValueRatingIn("care", 5, 5)]),
            repo.save_reflection(session, gone, {"identity": 1}),
            repo.save_roleplay_session(session, gone, "s", "gentle", "held", [("no", "a")]),
            repo.add_committed_action(session, mixed, "old step of mixed"),
            repo.save_reply_report(
                session, gone, channel=CHANNEL, reply_id="utter_greet@x", consent=True
            ),
        ]
        script = placeholder_script(session, mixed, priority="self_respect")
        repo.add_committed_action(session, mixed, "new step of mixed")
        for row in [*old_rows, gone, mixed, idle]:
            _age(row, days=100)
        for reply in old_rows[4].replies:
            _age(reply, days=100)
        script.created_at = utcnow() - timedelta(days=100)  # old, but edited recently
    with session_scope(journal_url) as session:
        assert session.get(BoundaryScript, script.id).updated_at > utcnow() - timedelta(days=1)

    with session_scope(journal_url) as session:
        counts = repo.purge(session, timedelta(days=90))

    assert counts == {
        "pending_exports": 0,
        "ai_notices": 0,
        "nudges": 0,
        "roleplay_replies": 1,
        "value_ratings": 1,
        "committed_actions": 2,
        "wise_mind_entries": 1,
        "boundary_scripts": 0,
        "reflection_results": 1,
        "roleplay_sessions": 1,
        "safety_plans": 0,
        "reply_reports": 1,
        "users": 2,
        "events": len(conversation("x")),
    }
    with session_scope(journal_url) as session:
        assert repo.find_user(session, CHANNEL, "gone") is None
        assert repo.find_user(session, CHANNEL, "idle") is None
        mixed = repo.find_user(session, CHANNEL, "mixed")
        assert [a.text for a in repo.list_committed_actions(session, mixed)] == [
            "new step of mixed"
        ]
        assert [s.id for s in repo.list_boundary_scripts(session, mixed)] == [script.id]
        assert repo.export_user(session, "rest", "old-talker")["conversation_events"] == []
        assert len(repo.export_user(session, "rest", "new-talker")["conversation_events"]) == 7


def test_purge_keeps_recent_users_and_refuses_a_non_positive_age(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user_who_agreed(session, CHANNEL, "fresh")
    with session_scope(journal_url) as session:
        counts = repo.purge(session, timedelta(hours=12))
        with pytest.raises(ValueError):
            repo.purge(session, timedelta(0))
    assert set(counts.values()) == {0}
    with session_scope(journal_url) as session:
        assert repo.find_user(session, CHANNEL, "fresh") is not None
