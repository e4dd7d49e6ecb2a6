"""'Show my progress' end to end over the real REST channel: values rated at two sittings come
back as a picture (a PNG data URL with its alt text, beside its summary line), the conversation
log keeps no picture, and after "delete my data" there is nothing left to draw.

Real Rasa and action servers (the shared stack), a real SQLite database. Needs a model trained
with the show_progress intent (data/nlu/progress.yml, data/rules/progress.yml).
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.journal import ValueRatingIn, repository, session_scope
from bot.journal.db import dispose_engines
from bot.journal.models import utcnow
from bot.progress import charts, pictures
from tests.conftest import user_who_agreed
from tests.e2e.chat import send
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

PNG_URL = "data:image/png;base64,"


@pytest.fixture
def stack(shared_stack: RasaStack) -> RasaStack:
    return shared_stack


def _rate_values_twice(stack: RasaStack, sender: str) -> None:
    """Two sittings of the values exercise, a week apart, as its save action keeps them."""
    with session_scope(stack.database_url) as session:
        user = user_who_agreed(session, "rest", sender)
        for days_ago, lived in ((7, 3), (0, 6)):
            rows = repository.save_value_ratings(
                session, user, "friendships", [ValueRatingIn("loyalty", 8, lived)]
            )
            for row in rows:
                row.created_at = utcnow() - timedelta(days=days_ago)
    dispose_engines(stack.database_url)


def _logged(stack: RasaStack, sender: str) -> str:
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s"), {"s": f"rest:{sender}"}
            ).scalars()
            return "\n".join(rows)
    finally:
        engine.dispose()


def test_values_rated_twice_come_back_as_a_picture_and_go_with_the_data(
    stack: RasaStack, same_secret: None
) -> None:
    sender = f"progress-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    _rate_values_twice(stack, sender)

    messages = send(stack, sender, "/show_progress")  # the menu's "My progress" button
    texts = [m.get("text") for m in messages if m.get("text")]
    assert texts[0] == pictures.texts().text("intro")
    [image] = [m for m in messages if m.get("image")]
    assert image["image"].startswith(PNG_URL)
    png = base64.b64decode(image["image"][len(PNG_URL) :])
    assert png.startswith(charts.PNG_SIGNATURE) and len(png) < 60_000
    assert "loyalty: 3, 6." in image["alt"]
    assert any("from 3 to 6 out of 10" in text for text in texts)

    # Sent once, never kept: the log has the summary line, not the picture or its description.
    logged = _logged(stack, sender)
    assert "from 3 to 6 out of 10" in logged
    assert PNG_URL not in logged and "loyalty: 3, 6." not in logged

    send(stack, sender, "delete my data")
    assert "erased" in send(stack, sender, "/confirm_delete")[0]["text"]
    [after] = send(stack, sender, "/show_progress")
    assert after["text"] == pictures.texts().text("none")
    assert not after.get("image")
