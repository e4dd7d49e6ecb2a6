"""Issue 13, finding 3, the rest of it: one export has an absolute size, however long the talk.

Exports no longer copy earlier exports (test_export_growth), but the conversation log still
grows with every turn, and before the cap an export carried all of it: a long conversation made
a file of any size. Here a returning user has a long log (seeded in Rasa's own ``events`` table
as Rasa writes it; 2.5 MB as an uncapped export) and talks once more over the real servers. The
export stays under ``MAX_EXPORT_BYTES``, keeps the newest talk and the whole journal, says how
much it left out, and the operator's command it names really returns the rest.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.journal.cli import main as journal_cli
from bot.journal.db import dispose_engines
from bot.journal.exports import EXPORT_KEY, MAX_EXPORT_BYTES, render
from tests.e2e.chat import send
from tests.e2e.servers import RasaStack
from tests.security.conftest import journal_with_a_step

pytestmark = pytest.mark.server

SEEDED = 1_100
TEXT = "I keep saying yes when I mean no, and then I resent it later. " * 14  # about 900 chars


def _seed_long_history(stack: RasaStack, sender_id: str, marker: str) -> None:
    """``SEEDED`` user messages from three days ago, in the rows Rasa's SQL store writes."""
    start = time.time() - 3 * 86_400
    rows = []
    for n in range(SEEDED):
        text = f"[{marker} {n:04d}] {TEXT}"
        data = {
            "event": "user",
            "timestamp": start + n,
            "text": text,
            "parse_data": {
                "intent": {"name": "share_reflection", "confidence": 0.91},
                "entities": [],
                "text": text,
            },
            "input_channel": "rest",
        }
        rows.append(
            {
                "sender_id": sender_id,
                "type_name": "user",
                "timestamp": start + n,
                "intent_name": "share_reflection",
                "action_name": None,
                "data": json.dumps(data),
            }
        )
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, "
                    "action_name, data) VALUES (:sender_id, :type_name, :timestamp, "
                    ":intent_name, :action_name, :data)"
                ),
                rows,
            )
    finally:
        engine.dispose()


def _stored_events(stack: RasaStack, sender_id: str) -> int:
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": sender_id}
            ).scalar_one()
    finally:
        engine.dispose()


def test_a_long_conversation_exports_within_the_cap_newest_first(
    stack: RasaStack, same_secret: None, tmp_path: Path
) -> None:
    sender = f"long-talker-{uuid.uuid4().hex[:8]}"
    marker = f"old-{uuid.uuid4().hex[:6]}"
    journal_with_a_step(stack, sender, f"say no to Jo ({marker}-journal)")
    _seed_long_history(stack, f"rest:{sender}", marker)

    send(stack, sender, f"hi again, it's been a while [{marker}-fresh]")
    before_export = _stored_events(stack, f"rest:{sender}")
    replies = send(stack, sender, "export my data")
    [content] = [
        r["custom"][EXPORT_KEY]["content"] for r in replies if EXPORT_KEY in (r.get("custom") or {})
    ]

    size = len(render(content).encode("utf-8"))
    assert size <= MAX_EXPORT_BYTES, f"{size:,} bytes"  # before the cap: 2.5 MB here
    assert size > MAX_EXPORT_BYTES - 10_000, "the cap is used, not wasted"
    events = content["conversation_events"]
    said = [e["data"].get("text", "") for e in events if e["type_name"] == "user"]
    assert said[-1] == f"hi again, it's been a while [{marker}-fresh]"  # the newest talk is in
    assert not any(f"[{marker} 0000]" in text for text in said)  # the oldest is not
    assert events == sorted(events, key=lambda e: e["id"])
    assert content["committed_actions"][0]["text"] == f"say no to Jo ({marker}-journal)"

    limit = content["size_limit"]
    assert limit["complete"] is False
    assert limit["left_out"] == {"conversation_events": before_export - len(events)}
    assert f"{before_export - len(events):,} conversation events" in limit["note"]
    command = f"python -m bot.journal export rest:{sender}"
    assert command in limit["note"]

    # What the note tells the operator to run returns everything, the oldest words included.
    out = tmp_path / "everything.json"
    assert (
        journal_cli(["--url", stack.database_url, "export", f"rest:{sender}", "--out", str(out)])
        == 0
    )
    dispose_engines(stack.database_url)
    everything = json.loads(out.read_text())
    assert everything["size_limit"]["complete"] is True
    all_said = [e["data"].get("text", "") for e in everything["conversation_events"]]
    assert any(f"[{marker} 0000]" in text for text in all_said)
    assert len(everything["conversation_events"]) >= before_export
