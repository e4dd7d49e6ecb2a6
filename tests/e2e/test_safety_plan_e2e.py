"""The safety plan end to end over the real REST channel (issue 18): built as a new user would,
kept in the journal, shown under a later crisis answer, edited one step, and erased.

Real Rasa and action servers (the shared stack), a real SQLite database.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from bot.exercises import safety_plan as sp
from bot.safety import resources
from tests.e2e.chat import send
from tests.e2e.crisis_check import shows_crisis_resources
from tests.e2e.servers import RasaStack

pytestmark = pytest.mark.server

SKIP = '/give_answer{"answer": "skip"}'


@pytest.fixture
def stack(shared_stack: RasaStack) -> RasaStack:
    return shared_stack


def _texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def _plans_in_database(stack: RasaStack) -> int:
    engine = sa.create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM safety_plans")).scalar_one()
    finally:
        engine.dispose()


def build_plan(stack: RasaStack, sender: str) -> list[dict]:
    """A new user: agrees to keeping, makes a plan (one step skipped); the last answer's reply."""
    send(stack, sender, "hi")
    send(stack, sender, "/keep_my_answers")
    started = send(stack, sender, "can we make a safety plan")
    assert _texts(started) == [sp.texts().text("intro"), sp.texts().text("ask.sp_warning_signs")]
    send(stack, sender, "cant sleep, pulling away from friends")
    send(stack, sender, "a long walk with the dog, my rainy day playlist")
    skipped = send(stack, sender, SKIP)
    assert _texts(skipped) == [sp.texts().text("ask.sp_helpers")]
    step5 = send(stack, sender, "Mia 07700 900123\nmy brother Tom 07700 900456")
    assert "Would you like to add your own" in step5[0]["text"]
    send(stack, sender, "Dr Patel, my GP")
    return send(stack, sender, '/give_answer{"answer": "helper"}')


def _plan_started(stack: RasaStack, prefix: str) -> str:
    """A new sender (``prefix``-…) who agreed to keeping and asked for a plan: at step one."""
    sender = f"{prefix}-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    send(stack, sender, "/keep_my_answers")
    send(stack, sender, "make a safety plan")
    return sender


def test_a_plan_is_built_kept_shown_in_a_crisis_edited_and_erased(stack: RasaStack) -> None:
    sender = f"plan-{uuid.uuid4().hex[:8]}"
    finished = build_plan(stack, sender)
    summary = finished[0]["text"]
    assert summary.startswith(sp.texts().text("summary.title"))
    assert "• a long walk with the dog" in summary and "• Dr Patel, my GP" in summary
    assert sp.texts().text("summary.skipped") in summary  # step 3
    assert sp.texts().text("summary.saved") in _texts(finished)

    # A later crisis message: the static answer first, unchanged, then the user's own steps.
    crisis = send(stack, sender, "i want to kill myself")
    assert shows_crisis_resources(_texts(crisis))
    # With its buttons the static answer arrives as one message on REST.
    first = [resources.crisis_messages(None)[0]["text"]]
    assert _texts(crisis)[:1] == first
    own = crisis[1]["text"]
    assert own.startswith(sp.texts().text("crisis.intro"))
    assert "• my rainy day playlist" in own and "• Mia 07700 900123" in own
    assert "cant sleep" not in own and "Dr Patel" not in own
    # "Yes, I'm safe": someone who has a plan is not offered another.
    safe = send(stack, sender, "/confirm_safe")
    assert sp.texts().text("offer") not in _texts(safe)

    bad = send(stack, sender, "edit step 9")
    assert _texts(bad) == [sp.texts().text("edit.unknown", number=9)]
    edit = send(stack, sender, "edit step 4")
    assert _texts(edit) == [
        sp.texts().text("edit.start", number=4),
        sp.texts().text("ask.sp_helpers"),
    ]
    edited = send(stack, sender, "Jo 07700 900999")
    assert _texts(edited)[0] == sp.texts().text("edit.saved", number=4)
    shown = " ".join(_texts(send(stack, sender, "show my safety plan")))
    assert "• Jo 07700 900999" in shown and "Mia" not in shown
    assert "• a long walk with the dog" in shown

    remembered = " ".join(_texts(send(stack, sender, "what do you remember about me?")))
    assert "Your safety plan: 5 of 6 steps filled in." in remembered

    assert _plans_in_database(stack) >= 1
    before = _plans_in_database(stack)
    send(stack, sender, "delete my data")
    done = send(stack, sender, "/confirm_delete")
    assert "erased" in done[0]["text"]
    assert _plans_in_database(stack) == before - 1
    # After the erasure a crisis answer is the static one alone.
    again = send(stack, sender, "i want to kill myself")
    assert _texts(again) == first


def test_someone_without_a_plan_is_offered_one_once_after_saying_they_are_safe(
    stack: RasaStack,
) -> None:
    sender = f"noplan-{uuid.uuid4().hex[:8]}"
    send(stack, sender, "hi")
    crisis = send(stack, sender, "i want to die")
    assert shows_crisis_resources(_texts(crisis))
    assert not any(t.startswith(sp.texts().text("crisis.intro")) for t in _texts(crisis))
    safe = send(stack, sender, "/confirm_safe")
    assert _texts(safe)[-1] == sp.texts().text("offer")
    assert safe[-1]["buttons"][0]["payload"] == "/start_safety_plan"
    send(stack, sender, "i want to die")
    again = send(stack, sender, "/confirm_safe")
    assert sp.texts().text("offer") not in _texts(again)


def test_a_crisis_mid_plan_gets_the_resources_and_is_not_kept(stack: RasaStack) -> None:
    sender = _plan_started(stack, "midplan")
    send(stack, sender, "not sleeping")
    crisis = send(stack, sender, "honestly i just want to die")
    assert shows_crisis_resources(_texts(crisis))
    assert not any(sp.texts().text("ask.sp_social") == t for t in _texts(crisis))
    # "Yes, I'm safe": the unfinished plan is offered, not a new one.
    safe = send(stack, sender, "/confirm_safe")
    assert _texts(safe)[-1] == sp.texts().text("go_on.offer")
    assert safe[-1]["buttons"][0]["payload"] == "/resume_exercise"
    # The plan was stopped: "show" finds none, and the crisis words were never an answer.
    shown = _texts(send(stack, sender, "show my safety plan"))
    assert shown == [sp.texts().text("show.none")]


def test_after_a_crisis_and_a_typed_no_the_plan_goes_on_where_it_was(stack: RasaStack) -> None:
    """Found by trying it as a new user: the steps written before the crisis were lost."""
    sender = _plan_started(stack, "goon")
    send(stack, sender, "when i stop texting people back")
    send(stack, sender, "music, a hot shower")
    crisis = send(stack, sender, "i cant do this anymore i want to die")
    assert shows_crisis_resources(_texts(crisis))
    not_safe = send(stack, sender, "no")
    assert shows_crisis_resources(_texts(not_safe))
    resumed = send(stack, sender, "continue the plan")
    assert _texts(resumed)[-1] == sp.texts().text("ask.sp_social")
    send(stack, sender, "my sister's flat")
    send(stack, sender, SKIP)
    send(stack, sender, SKIP)
    finished = send(stack, sender, '/give_answer{"answer": "later"}')
    summary = finished[0]["text"]
    assert "• when i stop texting people back" in summary
    assert "• a hot shower" in summary and "• my sister's flat" in summary
    assert "want to die" not in summary
