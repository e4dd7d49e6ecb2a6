"""The answer to a message the NLU was unsure about: "did you mean" rather than a stonewall;
and to a message that shares a feeling: heard, with the exercises that fit it.

The rule ``intent: nlu_fallback -> action_did_you_mean`` (data/rules/_shared.yml) runs this
action. It reads the parse data of the message (``bot.nlu.suggestions``):

- readable input whose likeliest intents include skills or topics gets one line
  (``utter_did_you_mean``) with those two or three as buttons and "Something else";
- unreadable input (emoji only, too long; the input guard marks it) and input with no likely
  skill or topic get the plain ``utter_default`` with the menu.

It learns nothing and sets nothing: the buttons send ordinary payloads. It never logs the text.
"""

from __future__ import annotations

from typing import ClassVar

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue as kit
from bot.nlu.suggestions import FLOOR, SOMETHING_ELSE, offers

# Below share_feeling, an exercise 2% likely is already the classifier's next guess.
SHARE_FEELING_FLOOR = 0.02


class _OfferAction(kit.SkillAction):
    """Offers the likeliest skills or topics as buttons with ``offer_response`` (and "Something
    else"), or says ``plain_response`` when none is likely enough."""

    floor: ClassVar[float] = FLOOR
    offer_response: ClassVar[str]
    plain_response: ClassVar[str]

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        found = offers(tracker.latest_message or {}, floor=self.floor)
        if not found:
            dispatcher.utter_message(response=self.plain_response)
            return []
        buttons = [offer.button() for offer in found] + [SOMETHING_ELSE.button()]
        dispatcher.utter_message(response=self.offer_response, buttons=buttons)
        return []


class ActionShareFeeling(_OfferAction):
    """Someone said how they feel or what is going on ("I lost myself, it is all about my
    boyfriend now"): acknowledge it and offer the exercises the classifier found closest to it,
    not the whole menu. The ranking below ``share_feeling`` is thin, so the floor is lower than
    "did you mean"'s; with no exercise above it, the acknowledgement comes with the menu."""

    action_name = "action_share_feeling"
    floor = SHARE_FEELING_FLOOR
    offer_response = "utter_share_feeling_offer"
    plain_response = "utter_share_feeling"


class ActionDidYouMean(_OfferAction):
    action_name = "action_did_you_mean"
    offer_response = "utter_did_you_mean"
    plain_response = "utter_default"
