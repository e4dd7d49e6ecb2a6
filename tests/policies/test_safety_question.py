"""SafetyQuestionPolicy: while "Are you safe right now?" is open, the reply is its answer.

Built directly with Rasa's real Domain (the project's domain/), trackers and ensemble; no trained
model. The conversation tests (tests/conversations/safety_question.yml) run it in the dialogue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.safety_question import (
    SafetyQuestionPolicy,
    SafetyQuestionPolicyConfigError,
    open_question,
)
from bot.safety.open_question import CHECK_IN, OPEN_QUESTION_KEY, SAFETY
from tests.builders import build_policy, predicted, rasa_tracker, user_says


@pytest.fixture
def policy(tmp_path: Path) -> SafetyQuestionPolicy:
    return build_policy(SafetyQuestionPolicy, tmp_path)


def _after_resources(text: str, intent: str) -> DialogueStateTracker:
    return rasa_tracker(
        user_says("I want to kill myself", "crisis"),
        ActionExecuted("utter_crisis_resources", policy="RulePolicy"),
        ActionExecuted("action_listen"),
        user_says(text, intent),
    )


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("no", "deny", "utter_crisis_not_safe"),
        ("not really", "share_feeling", "utter_crisis_not_safe"),
        ("idk", "nlu_fallback", "utter_crisis_not_safe"),
        ("yes", "affirm", "utter_crisis_safe"),
        ("i'm ok", "greet", "utter_crisis_safe"),
        ("ok", "affirm", "utter_crisis_ask_again"),
        ("show my journal", "show_journal", "utter_crisis_ask_again"),
        # The intent decides for the buttons and for a crisis message, whatever the words.
        ("/deny_safe", "deny_safe", "utter_crisis_not_safe"),
        ("/confirm_safe", "confirm_safe", "utter_crisis_safe"),
        ("yes i took them all", "crisis", "utter_crisis_not_safe"),
        ("yes, they'd all be better off", "crisis_check_in", "utter_crisis_not_safe"),
        # The check-in question's buttons pressed late: its "Yes" is risk, its "No" no answer.
        ("/check_in_yes", "check_in_yes", "utter_crisis_not_safe"),
        ("/check_in_no", "check_in_no", "utter_crisis_ask_again"),
    ],
)
def test_the_reply_is_answered_whatever_the_nlu_said(
    policy: SafetyQuestionPolicy, domain: Domain, text: str, intent: str, expected: str
) -> None:
    assert predicted(policy, _after_resources(text, intent), domain) == expected


def test_a_second_unclear_reply_gets_the_quickest_ways_to_reach_a_person(
    policy: SafetyQuestionPolicy, domain: Domain
) -> None:
    tracker = rasa_tracker(
        user_says("I want to kill myself", "crisis"),
        ActionExecuted("utter_crisis_resources"),
        ActionExecuted("action_listen"),
        user_says("ok", "affirm"),
        ActionExecuted("utter_crisis_ask_again", policy="SafetyQuestionPolicy"),
        ActionExecuted("action_listen"),
        user_says("whatever", "nlu_fallback"),
    )
    assert predicted(policy, tracker, domain) == "utter_crisis_unsure"


def test_after_its_answer_it_listens(policy: SafetyQuestionPolicy, domain: Domain) -> None:
    tracker = _after_resources("no", "deny")
    tracker.update(ActionExecuted("utter_crisis_not_safe", policy="SafetyQuestionPolicy"))
    assert predicted(policy, tracker, domain) == "action_listen"


@pytest.mark.parametrize(
    "events",
    [
        # nothing asked
        [user_says("no", "deny")],
        # asked, answered, then a new message: the question is closed
        [
            user_says("I want to kill myself", "crisis"),
            ActionExecuted("utter_crisis_resources"),
            ActionExecuted("action_listen"),
            user_says("no", "deny"),
            ActionExecuted("utter_crisis_not_safe", policy="SafetyQuestionPolicy"),
            ActionExecuted("action_listen"),
            user_says("no", "deny"),
        ],
        # a new session closes it too
        [
            user_says("I want to kill myself", "crisis"),
            ActionExecuted("utter_crisis_resources"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            user_says("no", "deny"),
        ],
    ],
)
def test_it_abstains_when_no_question_is_open(
    policy: SafetyQuestionPolicy, domain: Domain, events: list[Event]
) -> None:
    assert predicted(policy, rasa_tracker(*events), domain) is None


def test_it_outranks_an_active_form_and_the_rules(
    policy: SafetyQuestionPolicy, domain: Domain
) -> None:
    tracker = _after_resources("no", "deny")
    tracker.update(ActiveLoop("values_form"))
    ours = policy.predict_action_probabilities(tracker, domain)
    # What RulePolicy says for an active form: the loop, ignoring the user's words.
    form = PolicyPrediction.for_action_name(domain, "values_form", "RulePolicy")
    form.is_no_user_prediction = True
    form.policy_priority = 4
    rule = PolicyPrediction.for_action_name(domain, "utter_deny_no_context", "RulePolicy")
    rule.policy_priority = 4
    for others in ([form], [rule]):
        best = DefaultPolicyPredictionEnsemble().combine_predictions(
            [*others, ours], tracker, domain
        )
        assert best.policy_name == "SafetyQuestionPolicy"
        assert domain.action_names_or_texts[best.max_confidence_index] == "utter_crisis_not_safe"


def test_open_question_sees_only_the_last_bot_turn() -> None:
    tracker = _after_resources("no", "deny")
    assert open_question(tracker) is False
    assert open_question(rasa_tracker(user_says("hi", "greet"))) is None


def test_training_refuses_a_domain_without_the_responses(
    policy: SafetyQuestionPolicy,
) -> None:
    with pytest.raises(SafetyQuestionPolicyConfigError, match="utter_crisis_ask_again"):
        policy.train([], Domain.from_dict({"responses": {"utter_crisis_safe": [{"text": "x"}]}}))


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("no", "deny", "utter_crisis_not_safe"),
        ("yes", "affirm", "utter_crisis_safe"),
        ("ok", "affirm", "utter_crisis_ask_again"),
    ],
)
def test_resources_the_channel_noted_leave_the_question_open(
    policy: SafetyQuestionPolicy, domain: Domain, text: str, intent: str, expected: str
) -> None:
    # The floor sent the resources but the dialogue's turn was lost: the tracker shows the menu.
    reply = UserUttered(text, intent={"name": intent}, metadata={OPEN_QUESTION_KEY: SAFETY})
    tracker = rasa_tracker(
        user_says("hi", "greet"),
        ActionExecuted("utter_menu"),
        ActionExecuted("action_listen"),
        reply,
    )
    assert open_question(tracker) is False
    assert predicted(policy, tracker, domain) == expected


def test_a_noted_check_in_is_not_the_safety_question(
    policy: SafetyQuestionPolicy, domain: Domain
) -> None:
    reply = UserUttered("no", intent={"name": "deny"}, metadata={OPEN_QUESTION_KEY: CHECK_IN})
    assert open_question(rasa_tracker(reply)) is None
    assert predicted(policy, rasa_tracker(reply), domain) is None


def test_after_i_am_safe_the_safety_plan_is_offered_then_the_bot_listens(
    policy: SafetyQuestionPolicy, domain: Domain
) -> None:
    safe = _after_resources("yes", "affirm")
    safe.update(ActionExecuted("utter_crisis_safe", policy="SafetyQuestionPolicy"))
    assert predicted(policy, safe, domain) == "action_offer_safety_plan"
    safe.update(ActionExecuted("action_offer_safety_plan", policy="SafetyQuestionPolicy"))
    assert predicted(policy, safe, domain) == "action_listen"


def test_a_domain_without_the_safety_plan_listens_after_i_am_safe(
    policy: SafetyQuestionPolicy,
) -> None:
    small = Domain.from_dict(
        {
            "intents": ["affirm"],
            "responses": {
                name: [{"text": "x"}]
                for name in (
                    "utter_crisis_resources",
                    "utter_crisis_safe",
                    "utter_crisis_not_safe",
                    "utter_crisis_ask_again",
                    "utter_crisis_unsure",
                )
            },
        }
    )
    safe = _after_resources("yes", "affirm")
    safe.update(ActionExecuted("utter_crisis_safe", policy="SafetyQuestionPolicy"))
    assert predicted(policy, safe, small) == "action_listen"


def test_after_not_safe_nothing_is_offered(policy: SafetyQuestionPolicy, domain: Domain) -> None:
    unsafe = _after_resources("no", "deny")
    unsafe.update(ActionExecuted("utter_crisis_not_safe", policy="SafetyQuestionPolicy"))
    assert predicted(policy, unsafe, domain) == "action_listen"
