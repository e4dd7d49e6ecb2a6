"""Alembic migrations: the upgrade path keeps data, head matches the models, Rasa's table is safe."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.journal import db
from bot.journal import repository as repo
from bot.journal.identity import pseudonym
from bot.journal.models import Base

NOTE = "Calmer after the stone flake 🌊 — שקט"


def test_upgrade_from_first_revision_keeps_rows(db_url: str) -> None:
    assert db.current_revision(db_url) is None
    db.upgrade(db_url, "0001")
    assert db.current_revision(db_url) == "0001"
    when = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)
    engine = db.engine_for(db_url)
    with engine.begin() as connection:  # the schema of revision 0001, written without the models
        metadata = sa.MetaData()
        metadata.reflect(connection)
        users, entries = metadata.tables["users"], metadata.tables["wise_mind_entries"]
        assert "journal_consent" not in users.c
        user_id = connection.execute(
            users.insert().values(
                pseudonym=pseudonym("rest", "old-timer"), created_at=when, updated_at=when
            )
        ).inserted_primary_key[0]
        connection.execute(
            entries.insert().values(
                user_id=user_id,
                practice="stone flake",
                distress_before=7,
                distress_after=3,
                note=NOTE,
                created_at=when,
            )
        )

    db.upgrade(db_url)

    assert db.current_revision(db_url) == "0009"
    with db.session_scope(db_url) as session:
        user = repo.find_user(session, "rest", "old-timer")
        [entry] = repo.list_wise_mind_entries(session, user)
        # Never asked before 0003: "not asked yet", so nothing is kept until the user says yes.
        assert user.id == user_id and user.journal_consent is None
        assert user.created_at == when
        assert (entry.note, entry.distress_before, entry.created_at) == (NOTE, 7, when)
        repo.set_consent(session, user, True)
    with db.session_scope(db_url) as session:
        assert repo.find_user(session, "rest", "old-timer").journal_consent is True


def test_upgrade_twice_is_harmless(journal_url: str) -> None:
    db.upgrade(journal_url)
    assert db.current_revision(journal_url) == "0009"


def test_head_matches_the_models_and_ignores_rasa_events(
    journal_url: str, save_tracker, conversation
) -> None:
    save_tracker("someone", conversation("hello"))
    with db.engine_for(journal_url).connect() as connection:
        assert sa.inspect(connection).has_table("events")
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": db.include_object,
                "compare_type": True,
                "version_table": db.VERSION_TABLE,
            },
        )
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_never_touches_rasa_events(journal_url: str, save_tracker, conversation) -> None:
    save_tracker("keeps-talking", conversation("still here"))
    with db.engine_for(journal_url).begin() as connection:
        command.downgrade(db.alembic_config(connection), "base")
    with db.engine_for(journal_url).connect() as connection:
        inspector = sa.inspect(connection)
        assert not inspector.has_table("users")
        assert inspector.has_table("events")
        count = connection.exec_driver_sql("SELECT count(*) FROM events").scalar_one()
        assert count == len(conversation("still here"))
    db.upgrade(journal_url)
    assert db.current_revision(journal_url) == "0009"


def test_0007_adds_reply_reports_and_its_downgrade_removes_only_them(db_url: str) -> None:
    db.upgrade(db_url, "0006")
    with db.session_scope(db_url) as session:
        user = repo.get_or_create_user(session, "rest", "plan-keeper")
        repo.set_consent(session, user, True)
        repo.save_safety_plan(session, user, {"coping": ["a walk"]}, None)
    with db.engine_for(db_url).connect() as connection:
        assert not sa.inspect(connection).has_table("reply_reports")

    db.upgrade(db_url, "0007")
    assert db.current_revision(db_url) == "0007"
    with db.session_scope(db_url) as session:
        user = repo.find_user(session, "rest", "plan-keeper")
        assert repo.get_safety_plan(session, user).coping == ["a walk"]
        repo.save_reply_report(
            session, user, channel="rest", reply_id="utter_greet@x", note=NOTE, consent=True
        )
    with db.session_scope(db_url) as session:
        [report] = repo.list_reply_reports(session)
        assert report.note == NOTE

    with db.engine_for(db_url).begin() as connection:
        command.downgrade(db.alembic_config(connection), "0006")
    with db.engine_for(db_url).connect() as connection:
        inspector = sa.inspect(connection)
        assert not inspector.has_table("reply_reports")
        assert inspector.has_table("safety_plans") and inspector.has_table("users")
    assert db.current_revision(db_url) == "0006"
