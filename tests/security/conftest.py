"""The security tests run on the shared stack (``shared_stack`` in tests/conftest.py: action
server + Rasa server, REST and socket.io channels, SQLite), each test with its own sender.
``same_secret`` (tests/conftest.py) lets the test process compute pseudonyms (and seed the
journal) as the servers do; ``journal_with_a_step`` seeds it.
"""

from __future__ import annotations

import pytest

from bot.journal import repository, session_scope
from bot.journal.db import dispose_engines
from tests.conftest import user_who_agreed
from tests.e2e.servers import RasaStack


@pytest.fixture
def stack(shared_stack: RasaStack) -> RasaStack:
    return shared_stack


def journal_with_a_step(
    stack: RasaStack, sender: str, step: str, plan: dict[str, list[str]] | None = None
) -> None:
    """The REST user ``sender`` said yes to keeping answers and has ``step`` (and ``plan``, a
    finished safety plan's steps) in their journal (written by this process; its engines are
    closed again, so only the servers hold the file)."""
    with session_scope(stack.database_url) as session:
        user = user_who_agreed(session, "rest", sender)
        repository.add_committed_action(session, user, step)
        if plan is not None:
            repository.save_safety_plan(session, user, plan, "done")
    dispose_engines(stack.database_url)
