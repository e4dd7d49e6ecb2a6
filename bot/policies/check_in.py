"""The direct check-in for the middle band: one kind question, and every reply read as its answer.

A middle-band message (a passive wish, a veiled goodbye, a burden statement, feeling trapped:
the detector's tier ``check_in``, or DIET's ``crisis_check_in``) is not met with the full
resources at once. The bot asks directly, as the C-SSRS screener does, whether the person is
thinking about suicide (``utter_crisis_check_in``: the question, a crisis line in the same
message, and Yes / No buttons). While that question is open, this policy reads the reply with
``bot.safety.safety_answer`` in the question's polarity (a "yes" means risk), whatever intent
the NLU chose, and predicts:

- yes, distress, not sure, a crisis message -> ``utter_crisis_resources`` (which asks "Are you
  safe right now?": ``bot.policies.safety_question`` takes the reply from there); an active form
  is stopped, as the crisis rules do;
- no -> ``utter_crisis_check_in_no`` (a short warm line), then back to where the user was: the
  active form runs again and re-asks its current question, otherwise ``utter_menu``;
- unclear -> ``utter_crisis_check_in_ask_again`` (the question once more, with a crisis line),
  and a second unclear reply -> ``utter_crisis_resources``.

A second middle-band message in the same session (or one after any earlier crisis answer in it)
gets ``utter_crisis_resources`` directly, and so does the check-in's "Yes" button whenever it is
pressed. While "Are you safe right now?" is open this policy stays out of the way.

The form under a check-in stays active so that a "no" can return to it, but it is marked
rejected (``ActionExecutionRejected``, an optional event of the prediction) for as long as the
question is open: Rasa's ``action_extract_slots`` then never stores the reply to the check-in as
the answer to the exercise's question (``_matches_mapping_conditions``), and running the form
again clears the mark.

It runs inside Rasa with responses only (and the form, when one was active), so it works on every
channel and with the action server down. Its predictions outrank every other policy's, an active
form's included (``is_no_user_prediction``); ``SafetyQuestionPolicy`` outranks it on a tie.

    policies:
      - name: bot.policies.check_in.CheckInPolicy
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_DEACTIVATE_LOOP_NAME, ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.question_policy import QuestionPolicy
from bot.policies.safety_question import (
    asked_in_last_bot_turn,
    noted_by_channel,
    open_question,
)
from bot.safety.open_question import CHECK_IN
from bot.safety.safety_answer import Polarity, SafetyAnswer, read_safety_answer

CHECK_IN_INTENT = "crisis_check_in"
CRISIS_INTENT = "crisis"
YES_INTENT = "check_in_yes"
NO_INTENT = "check_in_no"

CHECK_IN_ACTION = "utter_crisis_check_in"
ASK_AGAIN_ACTION = "utter_crisis_check_in_ask_again"
NO_ACTION = "utter_crisis_check_in_no"
RESOURCES_ACTION = "utter_crisis_resources"
MENU_ACTION = "utter_menu"
RESPONSES = (CHECK_IN_ACTION, ASK_AGAIN_ACTION, NO_ACTION, RESOURCES_ACTION, MENU_ACTION)
INTENTS = (CHECK_IN_INTENT, CRISIS_INTENT, YES_INTENT, NO_INTENT)
# The responses that ask the check-in question; the value says whether it was already asked again.
QUESTION_ACTIONS = {CHECK_IN_ACTION: False, ASK_AGAIN_ACTION: True}
# What an earlier crisis in the session left behind: a second middle-band message is not asked
# about again, it gets the full resources.
EARLIER_CRISIS_INTENTS = frozenset({CRISIS_INTENT, CHECK_IN_INTENT, YES_INTENT})
EARLIER_CRISIS_ACTIONS = frozenset({CHECK_IN_ACTION, ASK_AGAIN_ACTION, RESOURCES_ACTION})
# Intents that answer the question without reading the text (NOT_SAFE stands for "risk").
# A typed reply DIET filed under check_in_no is read like any other text: only the button says
# "no" without words that could mean otherwise.
INTENT_ANSWERS = {
    YES_INTENT: SafetyAnswer.NOT_SAFE,
    CRISIS_INTENT: SafetyAnswer.NOT_SAFE,
    CHECK_IN_INTENT: SafetyAnswer.NOT_SAFE,
    "deny_safe": SafetyAnswer.NOT_SAFE,
}
NO_BUTTON_PAYLOAD = f"/{NO_INTENT}"


class CheckInPolicyConfigError(ValueError):
    """The policy's settings in config.yml, or the domain it needs, are not usable."""


def open_check_in(tracker: DialogueStateTracker) -> bool | None:
    """None when the bot's last turn did not ask the check-in; else whether it asked twice.

    A check-in the channel sent without the dialogue recording it counts as asked once."""
    asked = asked_in_last_bot_turn(tracker, QUESTION_ACTIONS)
    if asked is None and noted_by_channel(tracker) == CHECK_IN:
        return False
    return asked


def read_check_in_reply(tracker: DialogueStateTracker) -> SafetyAnswer:
    """The newest message as an answer to the check-in: NOT_SAFE is risk, SAFE a no."""
    message = tracker.latest_message
    intent = (message.intent or {}).get("name") if message else None
    text = (message.text if message else "") or ""
    answer = INTENT_ANSWERS.get(intent or "")
    if answer is not None:
        return answer
    if intent == NO_INTENT and text.strip() == NO_BUTTON_PAYLOAD:
        return SafetyAnswer.SAFE
    return read_safety_answer(text, Polarity.YES_MEANS_RISK).answer


def earlier_crisis_in_session(tracker: DialogueStateTracker) -> bool:
    """Whether this session already had a crisis message or a crisis answer before the newest
    message (the conversation since the last ``SessionStarted``)."""
    events = list(tracker.events)
    index = len(events) - 1
    while index >= 0 and not isinstance(events[index], UserUttered):
        index -= 1
    for event in reversed(events[:index]):
        if isinstance(event, SessionStarted):
            return False
        if isinstance(event, UserUttered) and event.intent_name in EARLIER_CRISIS_INTENTS:
            return True
        if isinstance(event, ActionExecuted) and event.action_name in EARLIER_CRISIS_ACTIONS:
            return True
    return False


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True
)
class CheckInPolicy(QuestionPolicy):
    """Asks the check-in for a middle-band message and answers the reply; abstains elsewhere."""

    config_error = CheckInPolicyConfigError

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``priority`` above RulePolicy's, below SafetyQuestionPolicy's (10)."""
        return {"priority": 9}

    @staticmethod
    def missing_from(domain: Domain) -> list[str]:
        missing = [a for a in RESPONSES if a not in domain.action_names_or_texts]
        return missing + [f"intent {i}" for i in INTENTS if i not in domain.intents]

    def _optional_events(self, action: str, tracker: DialogueStateTracker) -> list[Event]:
        loop = tracker.active_loop_name
        if action in QUESTION_ACTIONS and loop:
            # Keep the form for a "no", but let no reply to the check-in fill its slot.
            return [ActionExecutionRejected(loop, self.__class__.__name__)]
        return []

    def _next_action(self, tracker: DialogueStateTracker) -> str | None:
        if tracker.latest_action_name == ACTION_LISTEN_NAME:
            return self._answer(tracker)
        last = tracker.get_last_event_for(ActionExecuted)
        if last is None or last.policy != self.__class__.__name__:
            return None
        return self._continue(tracker, last.action_name)

    @staticmethod
    def _answer(tracker: DialogueStateTracker) -> str | None:
        """The first action after a user message."""
        if tracker.latest_message is None or open_question(tracker) is not None:
            return None  # "Are you safe right now?" is open: SafetyQuestionPolicy answers
        asked_again = open_check_in(tracker)
        if asked_again is not None:
            answer = read_check_in_reply(tracker)
            if answer is SafetyAnswer.NOT_SAFE:
                return RESOURCES_ACTION
            if answer is SafetyAnswer.SAFE:
                return NO_ACTION
            return RESOURCES_ACTION if asked_again else ASK_AGAIN_ACTION
        intent = tracker.latest_message.intent_name
        if intent == YES_INTENT:
            return RESOURCES_ACTION  # the check-in's "Yes", pressed late, is still a yes
        if intent == CHECK_IN_INTENT:
            return RESOURCES_ACTION if earlier_crisis_in_session(tracker) else CHECK_IN_ACTION
        return None

    @staticmethod
    def _continue(tracker: DialogueStateTracker, last_action: str | None) -> str | None:
        """The next action after one this policy chose, in the same bot turn."""
        loop = tracker.active_loop_name
        if last_action == RESOURCES_ACTION:
            return ACTION_DEACTIVATE_LOOP_NAME if loop else ACTION_LISTEN_NAME
        if last_action == NO_ACTION:
            return loop or MENU_ACTION  # the form re-asks its current question
        if last_action in (*QUESTION_ACTIONS, MENU_ACTION, ACTION_DEACTIVATE_LOOP_NAME):
            return ACTION_LISTEN_NAME
        # The form it sent the user back to has asked its question; if that completed it, the
        # form's own rules take over.
        return ACTION_LISTEN_NAME if loop else None
