"""Show, export and erase: the user's data rights, against a real (temporary SQLite) journal."""

import json

import sqlalchemy as sa
from rasa_sdk.events import AllSlotsReset, Restarted
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import ActionDeleteMyData, ActionExportMyData, ActionShowJournal
from bot.journal import ValueRatingIn, repository, session_scope
from bot.journal.exports import EXPORT_KEY
from tests.conftest import make_tracker, user_who_agreed


def _fill_journal(sender: str, channel: str = "rest") -> None:
    with session_scope() as session:
        user = user_who_agreed(session, channel, sender)
        repository.save_value_ratings(
            session, user, "family", [ValueRatingIn("honesty", 9, 4), ValueRatingIn("care", 7, 8)]
        )
        repository.add_committed_action(
            session, user, "tell Sam how I really feel", value="honesty"
        )
        repository.save_boundary_script(
            session,
            user,
            describe="You asked me to cover your shift again",
            express="I feel stretched thin",
            assertion="I can't cover it this time",
            reinforce="That way I'll be rested for my own shifts",
            priority="self_respect",
            title="Shift cover",
        )


def _texts(dispatcher: CollectingDispatcher) -> list[str]:
    return [m.get("response") or m.get("text") or "" for m in dispatcher.messages]


def test_show_journal_with_nothing_saved(journal_db: str) -> None:
    dispatcher = CollectingDispatcher()
    ActionShowJournal().run(dispatcher, make_tracker(sender_id="new"), {})
    assert _texts(dispatcher) == ["utter_journal_empty"]


def test_show_journal_summarises_values_actions_and_scripts(journal_db: str) -> None:
    _fill_journal("ana")
    dispatcher = CollectingDispatcher()
    ActionShowJournal().run(dispatcher, make_tracker(sender_id="ana"), {})
    responses = _texts(dispatcher)
    assert responses[0] == "utter_journal_intro"
    assert "utter_journal_values" in responses
    assert "utter_journal_scripts" in responses
    assert responses[-1] == "utter_journal_rights"
    values = next(m for m in dispatcher.messages if m["response"] == "utter_journal_values")
    assert "honesty: matters 9/10, lived 4/10" in values["values"]
    actions = next(m for m in dispatcher.messages if m["response"] == "utter_journal_actions")
    assert "tell Sam how I really feel" in actions["actions"]


def test_export_contains_every_stored_item(journal_db: str) -> None:
    _fill_journal("ana")
    dispatcher = CollectingDispatcher()
    ActionExportMyData().run(dispatcher, make_tracker(sender_id="ana"), {})
    assert dispatcher.messages[0]["response"] == "utter_export_intro"
    # REST tools get the JSON object itself, marked so the tracker store keeps only a placeholder.
    export = dispatcher.messages[1]["custom"][EXPORT_KEY]["content"]
    assert {r["value"] for r in export["value_ratings"]} == {"honesty", "care"}
    assert export["committed_actions"][0]["text"] == "tell Sam how I really feel"
    assert export["boundary_scripts"][0]["title"] == "Shift cover"


def test_export_on_telegram_is_a_document(journal_db: str) -> None:
    _fill_journal("42", channel="telegram")
    dispatcher = CollectingDispatcher()
    ActionExportMyData().run(dispatcher, make_tracker(sender_id="42", channel="telegram"), {})
    document = dispatcher.messages[1]["custom"]["document"]
    assert document["filename"].endswith(".json")
    assert json.loads(document["content"])["boundary_scripts"][0]["title"] == "Shift cover"


def test_delete_erases_every_row_of_the_user(journal_db: str) -> None:
    _fill_journal("ana")
    _fill_journal("bo")
    dispatcher = CollectingDispatcher()
    events = ActionDeleteMyData().run(dispatcher, make_tracker(sender_id="ana"), {})
    assert events == [AllSlotsReset(), Restarted()]
    assert dispatcher.messages[0]["response"] == "utter_deleted"
    with session_scope() as session:
        assert repository.find_user(session, "rest", "ana") is None
        assert repository.find_user(session, "rest", "bo") is not None
        counts = {
            table: session.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in ("users", "value_ratings", "committed_actions", "boundary_scripts")
        }
    # Only bo's rows are left: one user, two values, one action, one script.
    assert counts == {
        "users": 1,
        "value_ratings": 2,
        "committed_actions": 1,
        "boundary_scripts": 1,
    }


def test_unreachable_journal_gets_a_short_answer(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    for action in (ActionShowJournal(), ActionExportMyData()):
        dispatcher = CollectingDispatcher()
        assert action.run(dispatcher, make_tracker(sender_id="ana"), {}) == []
        assert _texts(dispatcher) == ["utter_journal_unavailable"]
    dispatcher = CollectingDispatcher()
    assert ActionDeleteMyData().run(dispatcher, make_tracker(sender_id="ana"), {}) == []
    assert _texts(dispatcher) == ["utter_delete_failed"]


def test_erasure_says_unfinished_while_a_reader_holds_old_pages(journal_db: str) -> None:
    """The reply says "erased" only when the WAL could be emptied (see db.scrub_deleted)."""
    import sqlite3
    import time

    from sqlalchemy.engine import make_url

    _fill_journal("ana")
    path = make_url(journal_db).database
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("PRAGMA journal_mode=WAL")
        _fill_journal("bo")  # frames in the WAL that a checkpoint must copy back
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM users").fetchone()  # holds a snapshot
        dispatcher = CollectingDispatcher()
        started = time.monotonic()
        ActionDeleteMyData().run(dispatcher, make_tracker(sender_id="ana"), {})
        assert time.monotonic() - started < 10
        assert _texts(dispatcher) == ["utter_delete_unfinished"]
    finally:
        reader.close()
    dispatcher = CollectingDispatcher()
    ActionDeleteMyData().run(dispatcher, make_tracker(sender_id="ana"), {})
    assert _texts(dispatcher) == ["utter_deleted"]
