"""Finding 6 of issue 13: after "delete my data" nothing of the user is readable in the files.

The raw bytes of the SQLite database and its -wal and -shm files are searched for a marker that
was written into the journal and into the conversation: before the fix (no ``secure_delete``,
no checkpoint) the erased text stayed readable in the write-ahead log.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.e2e.chat import send
from tests.e2e.servers import RasaStack
from tests.security.conftest import journal_with_a_step

pytestmark = pytest.mark.server


def _database_files(url: str) -> list[Path]:
    main = Path(make_url(url).database)
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if p.exists()]


def _files_containing(url: str, needle: str) -> list[str]:
    raw = needle.encode("utf-8")
    return [p.name for p in _database_files(url) if raw in p.read_bytes()]


def test_erased_text_is_gone_from_the_database_files(stack: RasaStack, same_secret: None) -> None:
    sender = f"erase-{uuid.uuid4().hex[:10]}"
    marker = f"quokka{uuid.uuid4().hex[:12]}"
    plan_marker = f"wombat{uuid.uuid4().hex[:12]}"
    # The safety plan goes with everything else (issue 18).
    journal_with_a_step(
        stack, sender, f"tell Sam about {marker}", plan={"helpers": [f"Ana {plan_marker}"]}
    )
    send(stack, sender, f"hello, my secret word is {marker}")
    send(stack, sender, "what do you remember about me?")
    # Both are on disk before the erasure (else the test below would prove nothing).
    assert _files_containing(stack.database_url, marker)
    assert _files_containing(stack.database_url, sender)
    assert _files_containing(stack.database_url, plan_marker)

    send(stack, sender, "delete my data")
    done = send(stack, sender, "yes, delete everything")
    assert "erased" in done[0]["text"]

    assert _files_containing(stack.database_url, marker) == []
    assert _files_containing(stack.database_url, plan_marker) == []
    assert _files_containing(stack.database_url, sender) == []
