"""Pause and resume: the form that was running is remembered and re-activated."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionPauseExercise, ActionResumeExercise
from bot.dialogue.turns import crisis_stopped_form
from tests.conftest import make_tracker

DOMAIN = {"forms": {"values_form": {}, "boundary_form": {}}}


def _tracker(
    slots: dict, active_loop: str | None = None, events: list[dict] | None = None
) -> Tracker:
    """The user has just said "stop"; ``events`` is the conversation so far (none by default)."""
    return make_tracker(
        slots, intent="stop_exercise", text="stop", active_loop=active_loop, events=events or []
    )


def test_pausing_remembers_the_active_form() -> None:
    dispatcher = CollectingDispatcher()
    events = ActionPauseExercise().run(dispatcher, _tracker({}, "values_form"), DOMAIN)
    assert events == [SlotSet("paused_exercise", "values_form")]
    assert dispatcher.messages[0]["response"] == "utter_exercise_paused"


def test_resuming_reactivates_the_paused_form() -> None:
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"paused_exercise": "boundary_form"})
    events = ActionResumeExercise().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("paused_exercise", None), FollowupAction("boundary_form")]
    assert dispatcher.messages[0]["response"] == "utter_exercise_resumed"


def test_resuming_with_nothing_paused_says_so() -> None:
    dispatcher = CollectingDispatcher()
    events = ActionResumeExercise().run(dispatcher, _tracker({"paused_exercise": None}), DOMAIN)
    assert events == [SlotSet("paused_exercise", None)]
    assert dispatcher.messages[0]["response"] == "utter_nothing_to_resume"


def test_a_stale_form_name_is_not_followed() -> None:
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"paused_exercise": "removed_form"})
    events = ActionResumeExercise().run(dispatcher, tracker, DOMAIN)
    assert FollowupAction("removed_form") not in events
    assert dispatcher.messages[0]["response"] == "utter_nothing_to_resume"


# A form stopped by a crisis answer, as Rasa records it (the crisis rules need no action server).
def _crisis_stop(form: str) -> list[dict]:
    return [
        {"event": "active_loop", "name": form},
        {"event": "action", "name": form},
        {"event": "user", "text": "..."},
        {"event": "action", "name": "utter_crisis_resources"},
        {"event": "action", "name": "action_deactivate_loop"},
        {"event": "active_loop", "name": None},
    ]


def test_a_form_stopped_by_a_crisis_answer_is_resumed() -> None:
    dispatcher = CollectingDispatcher()
    tracker = _tracker({"paused_exercise": None}, events=_crisis_stop("values_form"))
    events = ActionResumeExercise().run(dispatcher, tracker, DOMAIN)
    assert events == [FollowupAction("values_form")]
    assert dispatcher.messages[0]["response"] == "utter_exercise_resumed"


def test_the_crisis_stopped_form_goes_first_and_an_older_pause_stays() -> None:
    tracker = _tracker({"paused_exercise": "boundary_form"}, events=_crisis_stop("values_form"))
    events = ActionResumeExercise().run(CollectingDispatcher(), tracker, DOMAIN)
    assert events == [FollowupAction("values_form")]


@pytest.mark.parametrize(
    "later",
    [
        [{"event": "active_loop", "name": "boundary_form"}],
        [{"event": "session_started"}],
        [{"event": "restart"}],
    ],
    ids=["another form ran since", "a new session", "a restart"],
)
def test_a_crisis_stop_is_forgotten_once_something_else_began(later: list[dict]) -> None:
    assert crisis_stopped_form(_crisis_stop("values_form") + later) is None


def test_a_form_that_ended_on_its_own_is_not_crisis_stopped() -> None:
    finished = [
        {"event": "active_loop", "name": "values_form"},
        {"event": "action", "name": "utter_crisis_resources"},
        {"event": "action", "name": "values_form"},
        {"event": "active_loop", "name": None},
    ]
    assert crisis_stopped_form(finished) is None
    assert crisis_stopped_form(_crisis_stop("values_form")) == "values_form"
