"""Pause and resume: the form that was running is remembered and re-activated."""

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionPauseExercise, ActionResumeExercise

DOMAIN = {"forms": {"values_form": {}, "boundary_form": {}}}


def _tracker(slots: dict, active_loop: str | None = None) -> Tracker:
    return Tracker(
        sender_id="test",
        slots=slots,
        latest_message={"intent": {"name": "stop_exercise"}, "text": "stop"},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
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
