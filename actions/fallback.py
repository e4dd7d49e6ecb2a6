"""The answer to a message the NLU was unsure about: "did you mean" rather than a stonewall.

The rule ``intent: nlu_fallback -> action_did_you_mean`` (data/rules/_shared.yml) runs this
action. It reads the parse data of the message (``bot.nlu.suggestions``):

- readable input whose likeliest intents include skills or topics gets one line
  (``utter_did_you_mean``) with those two or three as buttons and "Something else";
- unreadable input (emoji only, too long; the input guard marks it) and input with no likely
  skill or topic get the plain ``utter_default`` with the menu.

It learns nothing and sets nothing: the buttons send ordinary payloads. It never logs the text.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue as kit
from bot.nlu.suggestions import SOMETHING_ELSE, offers


class ActionDidYouMean(kit.SkillAction):
    action_name = "action_did_you_mean"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        found = offers(tracker.latest_message or {})
        if not found:
            dispatcher.utter_message(response="utter_default")
            return []
        buttons = [offer.button() for offer in found] + [SOMETHING_ELSE.button()]
        dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return []
