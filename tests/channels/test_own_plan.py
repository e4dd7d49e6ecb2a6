"""The user's own safety plan under every crisis answer (bot.channels.own_plan, in the fail-safe).

Real crisis detector, real resource texts and a real SQLite journal; the dialogue is a stand-in.
The static answer must come first and stay exactly as it is whatever the journal does.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels import failsafe, own_plan
from bot.channels.open_questions import OpenQuestions
from bot.exercises import safety_plan as sp
from bot.journal import db, repository, session_scope
from bot.safety import resources
from tests.conftest import user_who_agreed

# The "program, not a person" notice is not what these tests are about (test_ai_notice.py).
pytestmark = pytest.mark.usefixtures("notice_seen")

KNOWN = frozenset({"greet", "crisis", "check_in_yes", "affirm"})
CRISIS_TEXT = "I want to die"
SENDER = "rest:plan-owner"
PLAN = {
    "warning_signs": ["can't sleep"],
    "coping": ["a walk by the river"],
    "social": ["the library"],
    "helpers": ["Mia, 07700 900123"],
    "professionals": ["Dr Patel"],
}


@pytest.fixture(autouse=True)
def fresh_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failsafe, "_open_questions_store", OpenQuestions())


@pytest.fixture
def plan_of_owner(journal_db: str) -> str:
    with session_scope() as session:
        user = user_who_agreed(session, "rest", SENDER)
        repository.save_safety_plan(session, user, PLAN, "done")
    return journal_db


@pytest.fixture
def journal_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A database without the journal's tables: every read fails."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv(db.DATABASE_URL_ENV, url)
    monkeypatch.setenv("SECURE_BASE_ID_SECRET", "own-plan-tests-pseudonym-key-0123456789")
    yield
    db.dispose_engines(url)


async def _silent(message: UserMessage) -> None:
    return None


async def _dialogue_gives_resources(message: UserMessage) -> None:
    for item in resources.crisis_messages(None):
        await message.output_channel.send_response(message.sender_id, copy.deepcopy(item))


async def _run(text: str, dialogue: Any = _silent, sender: str = SENDER) -> list[dict]:
    collector = CollectingOutputChannel()
    message = UserMessage(text, collector, sender, input_channel="rest")
    await failsafe.handle_message(dialogue, message, channel="rest", known_intents=KNOWN)
    return collector.messages


async def _static(categories: tuple[str, ...], sender: str = SENDER) -> list[dict]:
    collector = CollectingOutputChannel()
    for item in resources.crisis_messages(None, categories):
        await collector.send_response(sender, copy.deepcopy(item))
    return collector.messages


def _categories() -> tuple[str, ...]:
    return tuple(failsafe.safety.detect(CRISIS_TEXT).categories)


async def test_a_crisis_answer_adds_the_users_own_steps_after_the_static_lines(
    plan_of_owner: str,
) -> None:
    messages = await _run(CRISIS_TEXT)
    static = await _static(_categories())
    assert messages[: len(static)] == static
    assert [m["text"] for m in messages[len(static) :]] == [sp.crisis_text(PLAN)]
    assert "• a walk by the river" in messages[-1]["text"]
    assert "can't sleep" not in messages[-1]["text"]
    # The last message carries the safety question's buttons (the web shows only the last's).
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/confirm_safe", "/deny_safe"]


async def test_no_plan_leaves_the_static_answer_as_it_is(journal_db: str) -> None:
    assert await _run(CRISIS_TEXT) == await _static(_categories())


async def test_another_users_plan_is_never_added(plan_of_owner: str) -> None:
    messages = await _run(CRISIS_TEXT, sender="rest:someone-else")
    assert messages == await _static(_categories(), "rest:someone-else")


async def test_a_sender_id_without_a_channel_reads_no_plan(plan_of_owner: str) -> None:
    assert own_plan.read_plan_text("plan-owner") is None


async def test_with_the_journal_down_the_static_answer_goes_out_unchanged(
    journal_down: None,
) -> None:
    assert await _run(CRISIS_TEXT) == await _static(_categories())


async def test_a_slow_journal_never_holds_back_or_changes_the_static_answer(
    plan_of_owner: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def hung(sender_id: str) -> str:
        release.wait()
        return "never shown"

    monkeypatch.setattr(own_plan, "read_plan_text", hung)
    monkeypatch.setattr(own_plan, "PLAN_DEADLINE_SECONDS", 0.05)
    try:
        messages = await _run(CRISIS_TEXT)
    finally:
        release.set()
    assert messages == await _static(_categories())


async def test_the_dialogues_own_crisis_answer_gets_the_plan_too(plan_of_owner: str) -> None:
    # The check-in's "yes" is no crisis text: the dialogue answers it with the resources.
    messages = await _run("/check_in_yes", _dialogue_gives_resources)
    static = resources.crisis_messages(None)
    assert [m["text"] for m in messages] == [static[0]["text"], sp.crisis_text(PLAN)]


async def test_an_ordinary_turn_gets_no_plan(plan_of_owner: str) -> None:
    async def hello(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "Hello."})

    assert [m["text"] for m in await _run("hi", hello)] == ["Hello."]
