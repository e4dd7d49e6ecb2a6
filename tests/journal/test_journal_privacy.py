"""Pseudonyms and log hygiene: no raw sender id or journal text in logs or error messages."""

from __future__ import annotations

import logging
import stat
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.journal import repository as repo
from bot.journal.db import session_scope
from bot.journal.errors import JournalUnavailable
from bot.journal.identity import ID_SECRET_ENV, load_id_secret, pseudonym
from bot.journal.inputs import ValueRatingIn
from bot.journal.models import CommittedAction, utcnow
from bot.secrets import SecretError
from tests.conftest import user_who_agreed

SENDER = "raw-sender-8817"
PRIVATE = [
    "my sister keeps borrowing money",
    "I felt ashamed after the call",
    "honesty-with-mum",
    "No, I can't this time",
    "Dear Mum script",
]


def test_pseudonym_is_a_keyed_hash_of_channel_and_sender() -> None:
    key = b"k" * 32
    value = pseudonym("telegram", "42", key)
    assert value == pseudonym("telegram", "42", key)
    assert len(value) == 64 and int(value, 16) >= 0
    assert value != pseudonym("rest", "42", key)
    assert value != pseudonym("telegram", "42", b"another key")
    assert "42" not in value


def test_secret_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ID_SECRET_ENV, "from-env-pseudonym-key-0123456789abc")
    assert load_id_secret(Path("/nonexistent/never-created")) == (
        b"from-env-pseudonym-key-0123456789abc"
    )


@pytest.mark.parametrize("weak", ["from-env", "a-long-random-string-shared-by-every-process"])
def test_a_weak_or_example_secret_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, weak: str
) -> None:
    monkeypatch.setenv(ID_SECRET_ENV, weak)
    with pytest.raises(SecretError, match=ID_SECRET_ENV):
        load_id_secret(Path("/nonexistent/never-created"))


def test_secret_file_is_created_once_with_private_permissions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ID_SECRET_ENV)
    path = tmp_path / "var" / "id_secret"
    first = load_id_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64
    assert load_id_secret(path) == first
    path.write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        load_id_secret(path)


def test_no_raw_text_or_sender_id_in_logs(
    journal_url: str,
    caplog: pytest.LogCaptureFixture,
    save_tracker,
    conversation,
) -> None:
    save_tracker(SENDER, conversation(PRIVATE[0]))
    caplog.set_level(logging.DEBUG)
    with session_scope(journal_url) as session:
        user = user_who_agreed(session, "telegram", SENDER)
        repo.set_region(session, user, "UK")
        repo.set_consent(session, user, True)
        repo.add_wise_mind_entry(session, user, "stone flake", 6, 3, PRIVATE[1])
        repo.save_value_ratings(session, user, "family", [ValueRatingIn(PRIVATE[2], 8, 4)])
        repo.add_committed_action(session, user, PRIVATE[1])
        repo.save_roleplay_session(session, user, "s1", "firm", "held", [(PRIVATE[3], "a", {})])
        script = repo.save_boundary_script(
            session,
            user,
            title=PRIVATE[4],
            describe=PRIVATE[0],
            express=PRIVATE[1],
            assertion=PRIVATE[3],
            reinforce="thanks",
            priority="relationship",
        )
        repo.update_boundary_script(session, user, script.id, reinforce=PRIVATE[1])
        repo.save_reflection(session, user, {"boundaries": 2})
        repo.summary(session, user)
        repo.export_user(session, "telegram", SENDER)
    with session_scope(journal_url) as session:
        repo.purge(session, timedelta(days=365))
        repo.delete_user(session, "telegram", SENDER)

    infos = [record for record in caplog.records if record.levelno >= logging.INFO]
    ours = [record for record in caplog.records if record.name.startswith("bot.journal")]
    assert any("erased" in record.getMessage() for record in infos)  # the logs did run
    for record in infos + ours:
        message = record.getMessage()
        for secret in [SENDER, *PRIVATE]:
            assert secret not in message, (record.name, message)


def test_database_errors_do_not_quote_journal_text(journal_url: str) -> None:
    with pytest.raises(sa.exc.IntegrityError) as caught, session_scope(journal_url) as session:
        # An orphan row (no such user): the driver's error would normally quote the values.
        session.add(CommittedAction(user_id=987654, text=PRIVATE[1], created_at=utcnow()))
        session.flush()
    assert PRIVATE[1] not in str(caught.value)


def test_unavailable_message_names_no_user(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(JournalUnavailable) as caught:
        with session_scope("postgresql://postgres@127.0.0.1:1/x") as session:
            user_who_agreed(session, "telegram", SENDER)
    assert SENDER not in str(caught.value)
    assert all(SENDER not in record.getMessage() for record in caplog.records)
