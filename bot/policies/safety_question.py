"""The open question "Are you safe right now?": every reply is read as its answer.

The crisis answer (``utter_crisis_resources``) ends with that question and two buttons. A typed
"no" used to be read by the NLU as a plain ``deny`` and answered "That's fine" with the menu: a
person who had just said they were not safe was told that was fine. Keyboard users cannot reach
the buttons, and the web widget hides them once anything is typed, so the typed reply is the
answer that counts.

While the question is open (the bot's last turn asked it), this policy reads the user's reply
with ``bot.safety.safety_answer`` - whatever intent the NLU chose - and predicts:

- not safe (no, not really, I don't know, silence, a crisis message) -> ``utter_crisis_not_safe``
- safe (yes, I'm ok) -> ``utter_crisis_safe``, which keeps the numbers at hand, then
  ``action_offer_safety_plan`` (a gentle offer, once, to someone who has no safety plan; left
  out when the domain has no such action, and harmless when the action server is down)
- unclear -> ``utter_crisis_ask_again`` (the question once more, with a crisis line), and a
  second unclear reply -> ``utter_crisis_unsure`` (the quickest ways to reach a person)

then ``action_listen``. It runs inside Rasa with responses only, so it works on every channel
and with the action server down. Its predictions outrank every other policy, including an
active form's (``is_no_user_prediction``): no form, rule or fallback may take the reply.

    policies:
      - name: bot.policies.safety_question.SafetyQuestionPolicy
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.question_policy import QuestionPolicy
from bot.safety.open_question import SAFETY, marked_question
from bot.safety.safety_answer import SafetyAnswer, read_safety_answer

# The responses that ask the question; the value says whether it was already asked again.
QUESTION_ACTIONS = {"utter_crisis_resources": False, "utter_crisis_ask_again": True}
SAFE_ACTION = "utter_crisis_safe"
NOT_SAFE_ACTION = "utter_crisis_not_safe"
ASK_AGAIN_ACTION = "utter_crisis_ask_again"
UNSURE_ACTION = "utter_crisis_unsure"
ANSWER_ACTIONS = (SAFE_ACTION, NOT_SAFE_ACTION, ASK_AGAIN_ACTION, UNSURE_ACTION)
# After "I'm safe", the offer to make a safety plan (actions/safety_plan.py), when the domain has it.
AFTER_SAFE_ACTION = "action_offer_safety_plan"
# Intents that answer the question without reading the text (the buttons, and the crisis
# intents the NLU's crisis override sets whenever the detector fires on the reply). The check-in
# question's buttons, pressed late: its "Yes" (thoughts of suicide) is not safe, and its "No"
# says nothing about safety right now, so it is asked again.
INTENT_ANSWERS = {
    "confirm_safe": SafetyAnswer.SAFE,
    "deny_safe": SafetyAnswer.NOT_SAFE,
    "crisis": SafetyAnswer.NOT_SAFE,
    "crisis_check_in": SafetyAnswer.NOT_SAFE,
    "check_in_yes": SafetyAnswer.NOT_SAFE,
    "check_in_no": SafetyAnswer.UNCLEAR,
}


class SafetyQuestionPolicyConfigError(ValueError):
    """The policy's settings in config.yml are not usable."""


def noted_by_channel(tracker: DialogueStateTracker) -> str | None:
    """The question the channel's floor showed the user without the dialogue recording it
    (``bot.safety.open_question``), from the newest message's metadata."""
    message = tracker.latest_message
    return marked_question(message.metadata) if message is not None else None


def open_question(tracker: DialogueStateTracker) -> bool | None:
    """None when the bot's last turn did not ask "Are you safe?"; else whether it asked twice.

    A question the channel noted counts as asked once."""
    asked = asked_in_last_bot_turn(tracker, QUESTION_ACTIONS)
    if asked is None and noted_by_channel(tracker) == SAFETY:
        return False
    return asked


def asked_in_last_bot_turn(
    tracker: DialogueStateTracker, question_actions: Mapping[str, bool]
) -> bool | None:
    """None when the bot's last turn ran none of ``question_actions``; else whether one of them
    was the "asked again" kind (the mapping's value).

    The bot's last turn is every action between the user's previous message and the newest.
    """
    events = list(tracker.events)
    index = len(events) - 1
    while index >= 0 and not isinstance(events[index], UserUttered):
        index -= 1
    index -= 1  # before the reply being read
    asked: bool | None = None
    while index >= 0:
        event = events[index]
        if isinstance(event, (UserUttered, SessionStarted)):
            break
        if isinstance(event, ActionExecuted) and event.action_name in question_actions:
            asked = bool(asked) or question_actions[event.action_name]
        index -= 1
    return asked


def answer_action(tracker: DialogueStateTracker, asked_again: bool) -> str:
    """The response to the reply in ``tracker.latest_message``."""
    message = tracker.latest_message
    intent = (message.intent or {}).get("name") if message else None
    answer = INTENT_ANSWERS.get(intent or "")
    if answer is None:
        answer = read_safety_answer((message.text if message else "") or "").answer
    if answer is SafetyAnswer.SAFE:
        return SAFE_ACTION
    if answer is SafetyAnswer.NOT_SAFE:
        return NOT_SAFE_ACTION
    return UNSURE_ACTION if asked_again else ASK_AGAIN_ACTION


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True
)
class SafetyQuestionPolicy(QuestionPolicy):
    """Answers a reply to the open safety question; abstains everywhere else."""

    config_error = SafetyQuestionPolicyConfigError

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``priority`` above RulePolicy's (4), so a tie at confidence 1.0 goes to this one."""
        return {"priority": 10}

    @staticmethod
    def missing_from(domain: Domain) -> list[str]:
        return [
            a for a in (*ANSWER_ACTIONS, *QUESTION_ACTIONS) if a not in domain.action_names_or_texts
        ]

    def _next_action(self, tracker: DialogueStateTracker) -> str | None:
        if tracker.latest_action_name == ACTION_LISTEN_NAME:
            asked_again = open_question(tracker)
            if asked_again is None:
                return None
            return answer_action(tracker, asked_again)
        last = tracker.get_last_event_for(ActionExecuted)
        if last is not None and last.policy == self.__class__.__name__:
            return AFTER_SAFE_ACTION if last.action_name == SAFE_ACTION else ACTION_LISTEN_NAME
        return None

    def _instead_of_missing(self, action: str) -> str | None:
        # A domain without the safety plan listens after "I'm safe", as before.
        return ACTION_LISTEN_NAME if action == AFTER_SAFE_ACTION else None
