"""The journal keeps nothing without the user's yes: never asked and declined both refuse."""

from __future__ import annotations

import pytest

from bot.journal import ValueRatingIn
from bot.journal import repository as repo
from bot.journal.db import session_scope
from bot.journal.errors import JournalConsentMissing
from tests.conftest import placeholder_script

WRITES = {
    "values": lambda s, u: repo.save_value_ratings(s, u, "work", [ValueRatingIn("care", 8, 4)]),
    "action": lambda s, u: repo.add_committed_action(s, u, "call my sister"),
    "wise_mind": lambda s, u: repo.add_wise_mind_entry(s, u, "stone flake", 7, 3, "a note"),
    "script": placeholder_script,
    "reflection": lambda s, u: repo.save_reflection(s, u, {"caretaking": 0.5}),
    "roleplay": lambda s, u: repo.save_roleplay_session(
        s, u, "borrow_money", "gentle", "held", [("no, sorry", "clear_no", None)]
    ),
    "region": lambda s, u: repo.set_region(s, u, "US"),
}


def _entry_rows(url: str) -> int:
    with session_scope(url) as session:
        counts = repo.table_counts(session)
    return sum(n for name, n in counts.items() if name not in ("users", "deployment_keys"))


@pytest.mark.parametrize("answer", [None, False], ids=["never-asked", "declined"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_is_refused_without_consent(
    journal_url: str, write: str, answer: bool | None
) -> None:
    with session_scope(journal_url) as session:
        user = repo.get_or_create_user(session, "rest", "no-consent")
        if answer is not None:
            repo.set_consent(session, user, answer)
    with pytest.raises(JournalConsentMissing), session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "no-consent")
        WRITES[write](session, user)
    assert _entry_rows(journal_url) == 0
    with session_scope(journal_url) as session:
        assert repo.find_user(session, "rest", "no-consent").region is None


def test_a_yes_lets_writes_through_and_a_later_no_stops_them(journal_url: str) -> None:
    with session_scope(journal_url) as session:
        user = repo.get_or_create_user(session, "rest", "changes-mind")
        assert repo.consent_of(session, "rest", "changes-mind") is None
        repo.set_consent(session, user, True)
        WRITES["action"](session, user)
    assert _entry_rows(journal_url) == 1
    with session_scope(journal_url) as session:
        user = repo.find_user(session, "rest", "changes-mind")
        repo.set_consent(session, user, False)
        assert repo.consent_of(session, "rest", "changes-mind") is False
        with pytest.raises(JournalConsentMissing):
            WRITES["wise_mind"](session, user)
    assert _entry_rows(journal_url) == 1
