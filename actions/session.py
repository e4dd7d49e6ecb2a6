"""Pausing and resuming an exercise: shared by every skill's form.

Each skill has a rule "stop while <form> is active -> action_pause_exercise ->
action_deactivate_loop"; the form's filled slots stay, so "let's continue" can re-activate the
same form where the user left it. A crisis answer stops a form too (with no action server
needed); its answers stay as well, and "let's continue" goes on with it.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot import dialogue as kit
from bot.dialogue.turns import PAUSED_SLOT, crisis_stopped_form


class ActionPauseExercise(kit.SkillAction):
    """Remembers which form was running so it can be resumed later."""

    action_name = "action_pause_exercise"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        form = tracker.active_loop_name
        dispatcher.utter_message(response="utter_exercise_paused")
        return [SlotSet(PAUSED_SLOT, form)] if form else []


class ActionResumeExercise(Action):
    """Re-activates the paused form, or the one a crisis answer stopped, or says there is nothing
    to resume (the one action that needs the domain: which forms there are)."""

    def name(self) -> str:
        return "action_resume_exercise"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        paused = tracker.get_slot(PAUSED_SLOT)
        # A form stopped by a crisis is the newer one (no form has run since); one paused
        # before it stays paused.
        form = crisis_stopped_form(tracker.events) or paused
        if not form or form not in (domain.get("forms") or {}):
            dispatcher.utter_message(response="utter_nothing_to_resume")
            return [SlotSet(PAUSED_SLOT, None)]
        dispatcher.utter_message(response="utter_exercise_resumed")
        kept: list[EventType] = [] if form != paused else [SlotSet(PAUSED_SLOT, None)]
        return [*kept, FollowupAction(form)]
