"""Reporting a reply end to end over the real REST channel (issue 19): the button under the
not-safe answer, what is kept said before the yes, the note, the row in the journal, the
operator's listing, a crisis typed as the note, the export and the erasure.

Real Rasa and action servers (the shared stack), a real SQLite database.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.dialogue.texts import shorten
from bot.exercises import report_reply as rr
from bot.journal.cli import main as journal_cli
from bot.journal.db import dispose_engines
from bot.journal.exports import EXPORT_KEY
from bot.safety import resources
from tests.e2e.chat import send
from tests.e2e.crisis_check import shows_crisis_resources
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

YES = '/give_answer{"answer": "yes"}'
NOTE = "It was a joke about my exam, not a crisis"
REPORT_BUTTON = {"title": "Report this reply", "payload": "/report_reply"}


@pytest.fixture
def stack(shared_stack: RasaStack) -> RasaStack:
    return shared_stack


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def _reports(stack: RasaStack) -> list[tuple[str, str, str | None]]:
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT channel, reply_id, note FROM reply_reports ORDER BY id")
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def test_an_answer_after_a_crisis_is_reported_with_a_note_listed_exported_and_erased(
    stack: RasaStack, capsys: pytest.CaptureFixture[str]
) -> None:
    sender = f"report-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    assert shows_crisis_resources(_texts(send(stack, sender, "i want to die")))
    # "Yes, I'm safe": the answer is as it was (no region chosen: the generic text), with the
    # button (a false alarm is reported from here).
    safe = send(stack, sender, "/confirm_safe")
    expected = resources.catalogue().generic.safe
    assert " ".join(_texts(safe)[0].split()) == " ".join(expected.split())
    assert safe[0]["buttons"] == [REPORT_BUTTON]

    before = _reports(stack)
    asked = send(stack, sender, "/report_reply")
    assert _texts(asked) == [
        rr.texts().text("intro", quote=shorten(expected, rr.QUOTE_CHARS)),
        rr.texts().text("ask.report_consent"),
    ]
    note_asked = send(stack, sender, YES)
    assert _texts(note_asked) == [rr.texts().text("ask.report_note", limit=rr.NOTE_LIMIT)]
    done = send(stack, sender, NOTE)
    assert _texts(done) == [rr.texts().text("saved")]

    [new] = _reports(stack)[len(before) :]
    channel, reply_id, note = new
    assert channel == "rest" and note == NOTE
    assert reply_id.startswith("utter_crisis_safe") and reply_id.endswith("Z")
    assert "glad" not in reply_id

    # The operator's listing shows it, with its note.
    assert journal_cli(["--url", stack.database_url, "reports"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if reply_id in line]
    assert line.endswith(NOTE)
    # No connection of this process may stay open on the database the erasure scrubs.
    dispose_engines(stack.database_url)

    exported = send(stack, sender, "export my data")
    document = exported[-1]["custom"][EXPORT_KEY]["content"]
    assert [(r["reply_id"], r["note"]) for r in document["reply_reports"]] == [(reply_id, NOTE)]

    send(stack, sender, "delete my data")
    assert "erased" in send(stack, sender, "/confirm_delete")[0]["text"]
    assert new not in _reports(stack)


def test_a_crisis_typed_as_the_note_gets_the_resources_and_nothing_is_kept(
    stack: RasaStack,
) -> None:
    sender = f"report-crisis-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    send(stack, sender, "what is codependency?")
    asked = send(stack, sender, "that answer was wrong, I want to report it")
    assert _texts(asked)[-1] == rr.texts().text("ask.report_consent")
    send(stack, sender, YES)
    before = _reports(stack)
    crisis = send(stack, sender, "honestly i just want to die")
    assert shows_crisis_resources(_texts(crisis))
    assert rr.texts().text("saved") not in _texts(crisis)
    assert _reports(stack) == before
    # The safety question is answered as always; still nothing kept.
    safe = send(stack, sender, "/confirm_safe")
    assert safe[0]["buttons"] == [REPORT_BUTTON]
    assert _reports(stack) == before


def test_the_not_safe_answer_carries_nothing_but_its_lines(stack: RasaStack) -> None:
    sender = f"report-notsafe-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    assert shows_crisis_resources(_texts(send(stack, sender, "i want to die")))
    not_safe = send(stack, sender, "no")
    assert shows_crisis_resources(_texts(not_safe))
    assert not any(m.get("buttons") for m in not_safe)


def test_a_no_keeps_nothing(stack: RasaStack) -> None:
    sender = f"report-no-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    send(stack, sender, "report this reply")
    before = _reports(stack)
    declined = send(stack, sender, '/give_answer{"answer": "no"}')
    assert _texts(declined) == [rr.texts().text("declined")]
    assert _reports(stack) == before
