"""CheckInPolicy: a middle-band message gets the direct check-in question, and the reply is its
answer (a "yes" means risk), whatever the NLU said, in any state.

Built directly with Rasa's real Domain (the project's domain/), trackers, ensemble and
``action_extract_slots``; no trained model. The conversation tests (tests/conversations/
check_in.yml and the check-in stories of every skill) run it in the dialogue.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.check_in import (
    CheckInPolicy,
    CheckInPolicyConfigError,
    earlier_crisis_in_session,
    open_check_in,
)
from bot.policies.safety_question import SafetyQuestionPolicy
from bot.safety.open_question import CHECK_IN, OPEN_QUESTION_KEY, SAFETY
from tests.builders import DOMAIN_DIR, build_policy, predicted, rasa_tracker, user_says

OURS = "CheckInPolicy"


@pytest.fixture
def policy(tmp_path: Path) -> CheckInPolicy:
    return build_policy(CheckInPolicy, tmp_path)


MIDDLE = user_says("everyone would be better off without me", "crisis_check_in")


def _in_form(form: str, slot: str) -> list[Event]:
    """An exercise running: ``form`` active and asking for ``slot``."""
    return [ActiveLoop(form), SlotSet("requested_slot", slot)]


def _asked(*events: Event) -> list[Event]:
    """A check-in asked for a middle-band message (after ``events``), and the bot listening."""
    return [
        *events,
        MIDDLE,
        ActionExecuted("utter_crisis_check_in", policy=OURS),
        ActionExecuted("action_listen", policy=OURS),
    ]


def _turn(
    policy: CheckInPolicy, tracker: DialogueStateTracker, domain: Domain, limit: int = 6
) -> list[str]:
    """Every action the policy chooses until it listens, as the processor would run them."""
    actions: list[str] = []
    for _ in range(limit):
        prediction = policy.predict_action_probabilities(tracker, domain)
        assert prediction.max_confidence == 1.0, f"abstained after {actions}"
        action = domain.action_names_or_texts[prediction.max_confidence_index]
        actions.append(action)
        tracker.update_with_events(prediction.optional_events, domain)
        tracker.update(ActionExecuted(action, policy=OURS))
        if action == "action_deactivate_loop":
            tracker.update(ActiveLoop(None))
        if action == "action_listen":
            return actions
    raise AssertionError(f"never listened: {actions}")


# -- the question ---------------------------------------------------------------------------


def test_a_middle_band_message_gets_the_check_in(policy: CheckInPolicy, domain: Domain) -> None:
    tracker = rasa_tracker(
        user_says("hi", "greet"),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        MIDDLE,
    )
    assert _turn(policy, tracker, domain) == ["utter_crisis_check_in", "action_listen"]
    tracker.update(user_says("hmm", "nlu_fallback"))
    assert open_check_in(tracker) is False  # the reply is read as its answer


def test_mid_exercise_the_form_stays_but_cannot_take_the_reply(
    policy: CheckInPolicy, domain: Domain
) -> None:
    tracker = rasa_tracker(*_in_form("values_form", "value_area"), MIDDLE)
    prediction = policy.predict_action_probabilities(tracker, domain)
    assert prediction.is_no_user_prediction
    assert prediction.optional_events == [ActionExecutionRejected("values_form", OURS)]
    assert _turn(policy, tracker, domain) == ["utter_crisis_check_in", "action_listen"]
    assert tracker.active_loop_name == "values_form"
    assert tracker.is_active_loop_rejected


# -- the reply, read in the question's polarity -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent", "first"),
    [
        ("yes", "affirm", "utter_crisis_resources"),
        ("yeah sometimes", "affirm", "utter_crisis_resources"),
        ("idk", "nlu_fallback", "utter_crisis_resources"),
        ("a little", "share_feeling", "utter_crisis_resources"),
        ("i'm scared", "share_feeling", "utter_crisis_resources"),
        ("no", "deny", "utter_crisis_check_in_no"),
        ("nope, i'm fine", "deny", "utter_crisis_check_in_no"),
        ("not really", "stop_exercise", "utter_crisis_check_in_no"),
        ("ok", "affirm", "utter_crisis_check_in_ask_again"),
        ("why do you ask?", "ask_why", "utter_crisis_check_in_ask_again"),
        ("show my journal", "show_journal", "utter_crisis_check_in_ask_again"),
        # The buttons and a crisis message decide whatever the words.
        ("/check_in_yes", "check_in_yes", "utter_crisis_resources"),
        ("/check_in_no", "check_in_no", "utter_crisis_check_in_no"),
        ("no i took them all", "crisis", "utter_crisis_resources"),
        ("no one would even notice", "crisis_check_in", "utter_crisis_resources"),
        ("/deny_safe", "deny_safe", "utter_crisis_resources"),
        # A typed reply DIET called check_in_no is read: "not sure" is not a no.
        ("not sure", "check_in_no", "utter_crisis_resources"),
    ],
)
def test_the_reply_is_answered_whatever_the_nlu_said(
    policy: CheckInPolicy, domain: Domain, text: str, intent: str, first: str
) -> None:
    tracker = rasa_tracker(*_asked(), user_says(text, intent))
    assert predicted(policy, tracker, domain) == first


@pytest.mark.parametrize(
    ("running", "reply", "turn"),
    [
        pytest.param(
            _in_form("values_form", "value_area"),
            user_says("yes", "affirm"),
            ["utter_crisis_resources", "action_deactivate_loop", "action_listen"],
            id="yes_gets_the_resources_and_stops_the_form",
        ),
        pytest.param(
            _in_form("wise_mind_form", "wm_note"),
            user_says("no", "deny"),
            ["utter_crisis_check_in_no", "wise_mind_form", "action_listen"],
            id="no_goes_back_to_the_forms_question",
        ),
        pytest.param(
            [],
            user_says("nah", "deny"),
            ["utter_crisis_check_in_no", "utter_menu", "action_listen"],
            id="no_with_nothing_running_offers_the_menu",
        ),
    ],
)
def test_the_whole_turn_after_a_clear_reply(
    policy: CheckInPolicy, domain: Domain, running: list[Event], reply: Event, turn: list[str]
) -> None:
    tracker = rasa_tracker(*_asked(*running), reply)
    assert _turn(policy, tracker, domain) == turn


def test_unclear_twice_gets_the_resources(policy: CheckInPolicy, domain: Domain) -> None:
    tracker = rasa_tracker(
        *_asked(*_in_form("boundary_form", "bs_express")),
        user_says("ok", "affirm"),
    )
    assert _turn(policy, tracker, domain) == ["utter_crisis_check_in_ask_again", "action_listen"]
    tracker.update(user_says("whatever", "nlu_fallback"))
    assert open_check_in(tracker) is True
    assert _turn(policy, tracker, domain) == [
        "utter_crisis_resources",
        "action_deactivate_loop",
        "action_listen",
    ]


# -- a second middle-band message ---------------------------------------------------------------


def test_a_second_middle_band_message_gets_the_resources(
    policy: CheckInPolicy, domain: Domain
) -> None:
    tracker = rasa_tracker(
        *_asked(*_in_form("voice_check_form", "voice_source")),
        user_says("no", "deny"),
        ActionExecuted("utter_crisis_check_in_no", policy=OURS),
        ActionExecuted("voice_check_form", policy=OURS),
        ActionExecuted("action_listen", policy=OURS),
        user_says("I won't be around much longer anyway", "crisis_check_in"),
    )
    assert earlier_crisis_in_session(tracker)
    assert _turn(policy, tracker, domain) == [
        "utter_crisis_resources",
        "action_deactivate_loop",
        "action_listen",
    ]


def test_after_the_resources_a_middle_band_message_gets_them_again(
    policy: CheckInPolicy, domain: Domain
) -> None:
    tracker = rasa_tracker(
        user_says("I want to die", "crisis"),
        ActionExecuted("utter_crisis_resources", policy="RulePolicy"),
        ActionExecuted("action_listen"),
        user_says("yes", "affirm"),
        ActionExecuted("utter_crisis_safe", policy="SafetyQuestionPolicy"),
        ActionExecuted("action_listen", policy="SafetyQuestionPolicy"),
        MIDDLE,
    )
    assert predicted(policy, tracker, domain) == "utter_crisis_resources"


def test_a_new_session_asks_again(policy: CheckInPolicy, domain: Domain) -> None:
    tracker = rasa_tracker(
        *_asked(),
        user_says("no", "deny"),
        ActionExecuted("utter_crisis_check_in_no", policy=OURS),
        ActionExecuted("utter_menu", policy=OURS),
        ActionExecuted("action_listen", policy=OURS),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        MIDDLE,
    )
    assert not earlier_crisis_in_session(tracker)
    assert predicted(policy, tracker, domain) == "utter_crisis_check_in"


def test_the_yes_button_pressed_late_still_gets_the_resources(
    policy: CheckInPolicy, domain: Domain
) -> None:
    tracker = rasa_tracker(
        user_says("hi", "greet"),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        user_says("/check_in_yes", "check_in_yes"),
    )
    assert predicted(policy, tracker, domain) == "utter_crisis_resources"


# -- where it stays out --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "events",
    [
        [user_says("no", "deny")],
        [user_says("I want to die", "crisis")],
        # asked, answered, then a new message: the question is closed
        [
            *_asked(),
            user_says("no", "deny"),
            ActionExecuted("utter_crisis_check_in_no", policy=OURS),
            ActionExecuted("utter_menu", policy=OURS),
            ActionExecuted("action_listen", policy=OURS),
            user_says("no", "deny"),
        ],
        # "Are you safe right now?" is open: its own policy reads a middle-band reply
        [
            user_says("I want to die", "crisis"),
            ActionExecuted("utter_crisis_resources", policy="RulePolicy"),
            ActionExecuted("action_listen"),
            MIDDLE,
        ],
    ],
)
def test_it_abstains_elsewhere(policy: CheckInPolicy, domain: Domain, events: list[Event]) -> None:
    assert predicted(policy, rasa_tracker(*events), domain) is None


def test_a_middle_band_reply_to_are_you_safe_is_not_safe(tmp_path: Path, domain: Domain) -> None:
    safety = build_policy(SafetyQuestionPolicy, tmp_path)
    tracker = rasa_tracker(
        user_says("I want to die", "crisis"),
        ActionExecuted("utter_crisis_resources", policy="RulePolicy"),
        ActionExecuted("action_listen"),
        MIDDLE,
    )
    prediction = safety.predict_action_probabilities(tracker, domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == "utter_crisis_not_safe"


# -- against Rasa's own ensemble, forms and slot filling -------------------------------------------


def _rule_policy_predictions(domain: Domain, action: str) -> list[PolicyPrediction]:
    form = PolicyPrediction.for_action_name(domain, "values_form", "RulePolicy")
    form.is_no_user_prediction = True
    form.policy_priority = 6
    rule = PolicyPrediction.for_action_name(domain, action, "RulePolicy")
    rule.policy_priority = 6
    return [form, rule]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (user_says("no", "deny"), "utter_crisis_check_in_no"),
        (user_says("yes", "affirm"), "utter_crisis_resources"),
    ],
)
def test_it_outranks_an_active_form_and_the_rules(
    policy: CheckInPolicy, tmp_path: Path, domain: Domain, reply: UserUttered, expected: str
) -> None:
    tracker = rasa_tracker(*_asked(*_in_form("values_form", "value_area")), reply)
    ours = policy.predict_action_probabilities(tracker, domain)
    safety = build_policy(SafetyQuestionPolicy, tmp_path).predict_action_probabilities(
        tracker, domain
    )
    for rasas in _rule_policy_predictions(domain, "utter_deny_no_context"):
        best = DefaultPolicyPredictionEnsemble().combine_predictions(
            [rasas, safety, ours], tracker, domain
        )
        assert best.policy_name == OURS
        assert domain.action_names_or_texts[best.max_confidence_index] == expected


def test_the_check_in_outranks_the_form_on_the_middle_band_message(
    policy: CheckInPolicy, domain: Domain
) -> None:
    tracker = rasa_tracker(*_in_form("values_form", "value_area"), MIDDLE)
    ours = policy.predict_action_probabilities(tracker, domain)
    for rasas in _rule_policy_predictions(domain, "utter_crisis_check_in"):
        best = DefaultPolicyPredictionEnsemble().combine_predictions([rasas, ours], tracker, domain)
        assert best.policy_name == OURS
        assert domain.action_names_or_texts[best.max_confidence_index] == "utter_crisis_check_in"
        assert ActionExecutionRejected("values_form", OURS) in best.events


async def _extracted(tracker: DialogueStateTracker, domain: Domain) -> list[Event]:
    action = ActionExtractSlots(None)
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return await action.run(CollectingOutputChannel(), nlg, tracker, domain)


async def test_the_reply_to_the_check_in_never_fills_the_exercise_slot(
    policy: CheckInPolicy, domain: Domain
) -> None:
    """Rasa's own slot filling, after the question was asked the way the processor does it."""
    before = _in_form("values_form", "committed_action")
    reply = user_says("no", "deny")

    # Without the check-in, "no" would be the exercise's answer.
    plain = rasa_tracker(*before, reply)
    assert SlotSet("committed_action", "no") in await _extracted(plain, domain)

    tracker = rasa_tracker(*before, MIDDLE)
    assert await _extracted(tracker, domain) == []  # the middle-band message itself
    _turn(policy, tracker, domain)
    tracker.update(reply)
    assert await _extracted(tracker, domain) == []
    assert tracker.get_slot("committed_action") is None
    assert _turn(policy, tracker, domain)[:2] == ["utter_crisis_check_in_no", "values_form"]
    assert not tracker.is_active_loop_rejected  # the form ran again: its next answer counts


def test_every_free_text_slot_leaves_out_the_crisis_intents() -> None:
    for path in sorted(DOMAIN_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, slot in (data.get("slots") or {}).items():
            for mapping in slot.get("mappings") or []:
                if mapping.get("type") == "from_text":
                    guarded = set(mapping.get("not_intent") or [])
                    assert {"crisis", "crisis_check_in", "check_in_yes"} <= guarded, (path, name)


# -- set-up ------------------------------------------------------------------------------------


def test_training_refuses_a_domain_without_the_responses(policy: CheckInPolicy) -> None:
    domain = Domain.from_dict(
        {"intents": ["crisis"], "responses": {"utter_crisis_resources": [{"text": "x"}]}}
    )
    with pytest.raises(CheckInPolicyConfigError, match="utter_crisis_check_in.*crisis_check_in"):
        policy.train([], domain)


def test_training_accepts_the_project_domain(policy: CheckInPolicy, domain: Domain) -> None:
    assert policy.train([], domain) is not None


# -- a question the channel's floor showed without the dialogue recording it -----------------------


def _noted(text: str, intent: str, kind: str) -> UserUttered:
    return UserUttered(
        text, intent={"name": intent, "confidence": 0.97}, metadata={OPEN_QUESTION_KEY: kind}
    )


# The dialogue's turn was lost (a store outage, a failed turn): the tracker shows the menu last.
LOST = [user_says("hi", "greet"), ActionExecuted("utter_menu"), ActionExecuted("action_listen")]


@pytest.mark.parametrize(
    ("text", "intent", "first"),
    [
        ("yes", "affirm", "utter_crisis_resources"),
        ("no", "deny", "utter_crisis_check_in_no"),
        ("idk", "out_of_scope", "utter_crisis_resources"),
        ("ok", "affirm_no_context", "utter_crisis_check_in_ask_again"),
    ],
)
def test_a_check_in_noted_by_the_channel_is_answered(
    policy: CheckInPolicy, tmp_path: Path, domain: Domain, text: str, intent: str, first: str
) -> None:
    tracker = rasa_tracker(*LOST, _noted(text, intent, CHECK_IN))
    assert open_check_in(tracker) is False
    ours = policy.predict_action_probabilities(tracker, domain)
    safety = build_policy(SafetyQuestionPolicy, tmp_path).predict_action_probabilities(
        tracker, domain
    )
    rule = PolicyPrediction.for_action_name(domain, "utter_affirm_no_context", "RulePolicy")
    rule.policy_priority = 6
    best = DefaultPolicyPredictionEnsemble().combine_predictions(
        [rule, safety, ours], tracker, domain
    )
    assert best.policy_name == OURS
    assert domain.action_names_or_texts[best.max_confidence_index] == first


def test_a_noted_safety_question_is_left_to_its_policy(
    policy: CheckInPolicy, tmp_path: Path, domain: Domain
) -> None:
    tracker = rasa_tracker(*LOST, _noted("no", "deny", SAFETY))
    assert predicted(policy, tracker, domain) is None
    safety = build_policy(SafetyQuestionPolicy, tmp_path)
    assert predicted(safety, tracker, domain) == "utter_crisis_not_safe"


def test_without_a_note_the_reply_is_an_ordinary_message(
    policy: CheckInPolicy, domain: Domain
) -> None:
    assert predicted(policy, rasa_tracker(*LOST, user_says("yes", "affirm")), domain) is None
    unknown = UserUttered("yes", intent={"name": "affirm"}, metadata={OPEN_QUESTION_KEY: "menu"})
    assert predicted(policy, rasa_tracker(*LOST, unknown), domain) is None
