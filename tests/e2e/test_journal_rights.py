"""The journal's promises, end to end through the real REST channel and servers.

- show / export / delete in the chat; after deletion nothing about the sender is left in any
  table (checked with SQL), and a new message starts a fresh conversation;
- `kill -9` of the Rasa server between two messages loses no message the bot had answered.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from bot.journal import ValueRatingIn, repository
from bot.journal.db import dispose_engines, session_scope
from bot.journal.exports import EXPORT_KEY
from bot.journal.identity import pseudonym
from tests.conftest import user_who_agreed
from tests.e2e.chat import send as _send
from tests.e2e.chat import user_texts
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server


@pytest.fixture
def stack(shared_stack: RasaStack) -> RasaStack:
    """The shared stack (tests/conftest.py); every test here has its own sender."""
    return shared_stack


def _user_texts(stack: RasaStack, sender: str) -> list[str]:
    return user_texts(stack, f"rest:{sender}")


def _rows_mentioning(stack: RasaStack, sender: str) -> dict[str, int]:
    """Rows in every table that belong to this sender (by pseudonym, user id or sender id)."""
    pid = pseudonym("rest", sender)
    engine = sa.create_engine(stack.database_url, future=True)
    counts: dict[str, int] = {}
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            user_ids = connection.execute(
                sa.text("SELECT id FROM users WHERE pseudonym = :p"), {"p": pid}
            ).scalars()
            ids = list(user_ids)
            for table in inspector.get_table_names():
                columns = {c["name"] for c in inspector.get_columns(table)}
                if "sender_id" in columns:
                    query, params = (
                        f"SELECT COUNT(*) FROM {table} WHERE sender_id = :v",
                        {"v": f"rest:{sender}"},
                    )
                elif "pseudonym" in columns:
                    query, params = f"SELECT COUNT(*) FROM {table} WHERE pseudonym = :v", {"v": pid}
                elif "user_id" in columns and ids:
                    query, params = (
                        f"SELECT COUNT(*) FROM {table} WHERE user_id = :v",
                        {"v": ids[0]},
                    )
                else:
                    continue
                counts[table] = connection.execute(sa.text(query), params).scalar_one()
    finally:
        engine.dispose()
    return counts


def _seed_journal(stack: RasaStack, sender: str) -> None:
    with session_scope(stack.database_url) as session:
        user = user_who_agreed(session, "rest", sender)
        repository.save_value_ratings(
            session, user, "friendships", [ValueRatingIn("loyalty", 8, 3)]
        )
        repository.add_committed_action(session, user, "call Mia on Sunday", value="loyalty")
    dispose_engines(stack.database_url)


def test_show_export_and_delete_in_the_chat(stack: RasaStack, same_secret: None) -> None:
    sender = f"rights-{uuid.uuid4().hex[:8]}"
    _send(stack, sender, "hi")
    _seed_journal(stack, sender)

    shown = " ".join(
        m.get("text", "") for m in _send(stack, sender, "what do you remember about me?")
    )
    assert "loyalty: matters 8/10, lived 3/10" in shown
    assert "call Mia on Sunday" in shown

    exported = _send(stack, sender, "export my data")
    document = exported[-1]["custom"][EXPORT_KEY]["content"]
    assert document["value_ratings"][0]["value"] == "loyalty"
    assert "what do you remember about me?" in json.dumps(document["conversation_events"])

    asked = _send(stack, sender, "delete my data")
    assert any(b["payload"] == "/confirm_delete" for m in asked for b in m.get("buttons", []))
    assert any(v > 0 for v in _rows_mentioning(stack, sender).values())
    done = _send(stack, sender, "/confirm_delete")
    assert "erased" in done[0]["text"]

    left = _rows_mentioning(stack, sender)
    assert left and all(count == 0 for count in left.values()), left

    again = _send(stack, sender, "hi")
    assert again[0]["text"].startswith("Hi! I guide short self-help exercises")
    assert _user_texts(stack, sender) == ["hi"]


def test_cancelled_deletion_keeps_everything(stack: RasaStack, same_secret: None) -> None:
    sender = f"keep-{uuid.uuid4().hex[:8]}"
    _send(stack, sender, "hi")
    _seed_journal(stack, sender)
    _send(stack, sender, "delete my data")
    cancelled = _send(stack, sender, "/cancel_delete")
    assert "nothing was deleted" in cancelled[0]["text"]
    counts = _rows_mentioning(stack, sender)
    assert counts["users"] == 1 and counts["value_ratings"] == 1 and counts["events"] > 0


def test_kill_9_between_messages_loses_nothing_answered(stack: RasaStack) -> None:
    sender = f"crash-{uuid.uuid4().hex[:8]}"
    sent = ["hi", "what is codependency?", "are you a bot?"]
    for text in sent:
        assert _send(stack, sender, text), "the bot answered"
    stack.kill_rasa()
    stack.restart_rasa()
    assert _user_texts(stack, sender) == sent
    assert _send(stack, sender, "thanks")
    assert _user_texts(stack, sender) == [*sent, "thanks"]
