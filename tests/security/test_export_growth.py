"""Finding 3 of issue 13: an export is never kept in the conversation log, so exports do not grow.

Before the fix each export was stored as a bot event and copied, escaped again, into the next
one (about 2.7x per export). Here: 20 exports in one conversation over the real servers; each
grows by at most one turn's few events, and no stored event holds an export body.
"""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from bot.journal.exports import EXPORT_KEY, PLACEHOLDER
from tests.e2e.chat import send
from tests.e2e.servers import RasaStack
from tests.security.conftest import journal_with_a_step

pytestmark = pytest.mark.server

EXPORTS = 20
# One export turn stores a handful of events (the user message with its parse data, the action,
# the intro, the placeholder, listen): a few kB. Earlier exports must add nothing beyond that.
PER_TURN_LIMIT = 8_000


def _export_size(replies: list[dict]) -> tuple[int, dict]:
    found = [r for r in replies if EXPORT_KEY in (r.get("custom") or {})]
    # With the log keeping export bodies, an export stopped arriving within the 20 rounds.
    assert len(found) == 1, [sorted(r) for r in replies]
    [message] = found
    content = message["custom"][EXPORT_KEY]["content"]
    return len(json.dumps(content, ensure_ascii=False)), content


def test_twenty_exports_do_not_grow_and_are_not_stored(stack: RasaStack, same_secret: None) -> None:
    sender = f"exporter-{uuid.uuid4().hex[:8]}"
    marker = f"growth-marker-{uuid.uuid4().hex[:8]}"
    journal_with_a_step(stack, sender, f"write to Jo ({marker})")

    sizes = []
    for _ in range(EXPORTS):
        size, content = _export_size(send(stack, sender, "export my data"))
        sizes.append(size)
    assert content["committed_actions"][0]["text"] == f"write to Jo ({marker})"

    steps = [later - earlier for earlier, later in zip(sizes, sizes[1:], strict=False)]
    assert max(steps) <= PER_TURN_LIMIT, sizes
    assert sizes[-1] <= sizes[0] + (EXPORTS - 1) * PER_TURN_LIMIT, sizes

    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": f"rest:{sender}"},
            ).all()
    finally:
        engine.dispose()
    bot_events = [json.loads(data) for kind, data in stored if kind == "bot"]
    placeholders = [e for e in bot_events if (e.get("data") or {}).get("custom") == PLACEHOLDER]
    assert len(placeholders) == EXPORTS
    everything = "\n".join(data for _, data in stored)
    assert marker not in everything
    assert "conversation_events" not in everything
