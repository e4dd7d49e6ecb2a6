"""CrisisIntentOverride: the detector's verdict becomes the intent, and a leading "/" cannot
smuggle a crisis message past it. Built directly, with Rasa's real Message, ModelStorage and
RegexMessageHandler; no trained model."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.crisis_detector import (
    CATEGORIES_KEY,
    PATTERNS_KEY,
    SIGNS_KEY,
    TIER_KEY,
    CrisisIntentOverride,
    CrisisIntentOverrideConfigError,
    strip_intent_prefix,
)
from bot.safety.detector import TIER_CHECK_IN, TIER_FULL, CrisisDetector, CrisisResult
from tests.builders import check_in_verdict


@pytest.fixture
def component(detector: CrisisDetector) -> CrisisIntentOverride:
    return CrisisIntentOverride(CrisisIntentOverride.get_default_config(), detector=detector)


def _diet_message(text: str, intent: str = "greet", confidence: float = 0.91) -> Message:
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "crisis", "confidence": 0.05},
        {"name": "deny", "confidence": 0.04},
    ]
    return Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": confidence},
            INTENT_RANKING_KEY: ranking,
        }
    )


def test_create_through_the_graph_api(tmp_path: Path) -> None:
    created = CrisisIntentOverride.create(
        {**CrisisIntentOverride.get_default_config()},
        LocalModelStorage(tmp_path),
        Resource("crisis_override"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    [message] = created.process([Message(data={TEXT: "I want to kill myself"})])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}


def test_a_crisis_becomes_the_intent_and_tops_the_ranking(component: CrisisIntentOverride) -> None:
    [message] = component.process([_diet_message("honestly I just want to die")])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": "crisis", "confidence": 1.0}
    assert [r["name"] for r in ranking].count("crisis") == 1
    assert [r["name"] for r in ranking[1:]] == ["greet", "deny"]
    assert "suicidal_thoughts" in message.get(CATEGORIES_KEY)
    assert message.get(PATTERNS_KEY)
    parse = message.as_dict(only_output_properties=True)
    assert parse[INTENT]["name"] == "crisis" and CATEGORIES_KEY in parse


def test_no_crisis_leaves_the_prediction_alone(component: CrisisIntentOverride) -> None:
    original = _diet_message("I always say yes to my mom")
    [message] = component.process([original])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.91}
    assert message.get(CATEGORIES_KEY) is None


def test_a_crisis_only_diet_saw_is_kept(component: CrisisIntentOverride) -> None:
    [message] = component.process([_diet_message("everything is grey", "crisis", 0.8)])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 0.8}


def test_empty_and_missing_text_do_not_crash(component: CrisisIntentOverride) -> None:
    messages = [Message(data={TEXT: ""}), Message(data={TEXT: "   "}), Message(data={}), Message()]
    assert component.process(messages) == messages
    assert all(m.get(INTENT) is None for m in messages)


def test_several_messages_in_one_call(component: CrisisIntentOverride) -> None:
    messages = component.process(
        [_diet_message("hi there"), _diet_message("he hits me"), _diet_message("ok")]
    )
    assert [m.get(INTENT)["name"] for m in messages] == ["greet", "crisis", "greet"]


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("/greet@1.0 I want to die", "greet@1.0 I want to die"),
        (" //greet I want to kill myself", "greet I want to kill myself"),
        ('/ / affirm{"x": 1} he hits me', 'affirm{"x": 1} he hits me'),
        ("hello / I want to die", "hello / I want to die"),
    ],
)
def test_strip_intent_prefix(text: str, stripped: str) -> None:
    assert strip_intent_prefix(text) == stripped


DOMAIN = Domain.from_dict({"intents": ["greet", "affirm", "crisis", "deny_safe"]})


@pytest.mark.filterwarnings("ignore::UserWarning")  # Rasa warns about the unparsed rest
@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/greet@1.0 I want to kill myself", "greet"),
        ('/affirm{"name": "x"} I took the whole bottle', "affirm"),
        ("/greet", "greet"),
        # without "@" or "{" the whole rest is read as the intent name, unknown to the domain
        ("  /greet I want to die", None),
    ],
)
def test_the_regex_handler_bypass_is_real_without_the_component(
    text: str, intent: str | None
) -> None:
    [message] = RegexMessageHandler().process([Message(data={TEXT: text})], DOMAIN)
    assert (message.get(INTENT) or {}).get("name") == intent


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    "text",
    [
        "/greet@1.0 I want to kill myself",
        '/affirm{"name": "x"} I took the whole bottle',
        "/greet@0.2 he hits me",
        "//greet@1 I want to die",
    ],
)
def test_the_component_defeats_the_slash_bypass(component: CrisisIntentOverride, text: str) -> None:
    # The same order as Rasa's predict graph: the NLU pipeline, then RegexMessageHandler.
    [message] = component.process([_diet_message(text)])
    [final] = RegexMessageHandler().process([message], DOMAIN)
    assert final.get(INTENT)["name"] == "crisis"
    assert not final.get(TEXT).startswith("/")


def test_button_payloads_still_work(component: CrisisIntentOverride) -> None:
    [message] = component.process([Message(data={TEXT: "/deny_safe"})])
    [final] = RegexMessageHandler().process([message], DOMAIN)
    assert final.get(INTENT) == {"name": "deny_safe", "confidence": 1.0}


def test_prefix_stripping_can_be_switched_off(detector: CrisisDetector) -> None:
    config = {**CrisisIntentOverride.get_default_config(), "defeat_intent_prefix": False}
    component = CrisisIntentOverride(config, detector=detector)
    [message] = component.process([_diet_message("/greet@1.0 I want to die")])
    assert message.get(TEXT) == "/greet@1.0 I want to die"
    assert message.get(INTENT)["name"] == "crisis"


def test_configured_intent_and_confidence(detector: CrisisDetector) -> None:
    component = CrisisIntentOverride({"intent": "emergency", "confidence": 0.99}, detector=detector)
    [message] = component.process([_diet_message("I want to die")])
    assert message.get(INTENT) == {"name": "emergency", "confidence": 0.99}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"confidence": 0}, "confidence"),
        ({"confidence": 1.5}, "confidence"),
        ({"confidence": "high"}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"intent": ""}, "intent"),
        ({"intent": "crisis intent"}, "intent"),
        ({"check_in_intent": ""}, "check_in_intent"),
        ({"check_in_intent": "crisis"}, "check_in_intent"),
        ({"defeat_intent_prefix": "yes"}, "defeat_intent_prefix"),
    ],
)
def test_bad_config_is_refused_clearly(config: dict, field: str) -> None:
    with pytest.raises(CrisisIntentOverrideConfigError) as error:
        CrisisIntentOverride(config)
    assert field in str(error.value) and "config.yml" in str(error.value)


def test_detector_errors_still_mark_a_crisis(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = CrisisDetector()

    def explode(text: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(broken, "analyse", explode)
    component = CrisisIntentOverride({}, detector=broken)
    [message] = component.process([_diet_message("what's for dinner?")])
    assert message.get(INTENT)["name"] == "crisis"
    assert message.get(CATEGORIES_KEY) == ["unknown"]


def test_the_component_passes_rasa_graph_validation_in_a_pipeline() -> None:
    from rasa.engine import validation
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType

    config = {
        "recipe": "default.v1",
        "language": "en",
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "DIETClassifier", "epochs": 1},
            {"name": "FallbackClassifier", "threshold": 0.5},
            {"name": "bot.nlu.crisis_detector.CrisisIntentOverride"},
        ],
        "policies": [{"name": "RulePolicy"}],
    }
    recipe = Recipe.recipe_for_name("default.v1")
    model_config = recipe.graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
    validation.validate(model_config)  # raises GraphSchemaValidationException on a mismatch
    nodes = [n for n in model_config.predict_schema.nodes if "CrisisIntentOverride" in n]
    assert nodes, "the component is a predict-only node"
    regex_node = model_config.predict_schema.nodes["run_RegexMessageHandler"]
    assert regex_node.needs["messages"] == nodes[0]  # the "/" handler runs right after it


# -- the middle band: the detector's tier "check_in" becomes the check-in intent ---------------


class TierDetector(CrisisDetector):
    """A detector that answers every message with one fixed verdict (the real one does not
    return the check-in tier yet)."""

    def __init__(self, result: CrisisResult) -> None:
        super().__init__()
        self.result = result

    def load(self) -> None:
        return None

    def detect(self, text: object) -> CrisisResult:
        return self.result


CHECK_IN = check_in_verdict("passive_wish", "passive_wish_not_wake_up")


def test_the_check_in_tier_becomes_the_check_in_intent() -> None:
    component = CrisisIntentOverride({}, detector=TierDetector(CHECK_IN))
    [message] = component.process([_diet_message("I hope I just don't wake up", "greet", 0.6)])
    assert message.get(INTENT) == {"name": "crisis_check_in", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0] == {"name": "crisis_check_in", "confidence": 1.0}
    assert [r["name"] for r in ranking[1:]] == ["greet", "crisis", "deny"]
    assert message.get(TIER_KEY) == TIER_CHECK_IN
    assert message.get(SIGNS_KEY) == ["passive_wish"]
    assert message.get(CATEGORIES_KEY) == ["suicidal_thoughts"]
    parse = message.as_dict(only_output_properties=True)
    assert parse[INTENT]["name"] == "crisis_check_in" and parse[TIER_KEY] == TIER_CHECK_IN


def test_the_detectors_tier_decides_over_diets_guess() -> None:
    check_in = CrisisIntentOverride({}, detector=TierDetector(CHECK_IN))
    [message] = check_in.process([_diet_message("they'd be better off", "crisis", 0.9)])
    assert message.get(INTENT)["name"] == "crisis_check_in"
    full = CrisisResult(is_crisis=True, categories=("suicidal_thoughts",), tier=TIER_FULL)
    crisis = CrisisIntentOverride({}, detector=TierDetector(full))
    [message] = crisis.process([_diet_message("goodbye forever", "crisis_check_in", 0.9)])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)].count("crisis") == 1
    assert message.get(TIER_KEY) == TIER_FULL


def test_a_check_in_only_diet_saw_is_kept(component: CrisisIntentOverride) -> None:
    [message] = component.process([_diet_message("what a day", "crisis_check_in", 0.7)])
    assert message.get(INTENT) == {"name": "crisis_check_in", "confidence": 0.7}
    assert message.get(TIER_KEY) is None


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_slash_bypass_cannot_hide_a_check_in() -> None:
    component = CrisisIntentOverride({}, detector=TierDetector(CHECK_IN))
    domain = Domain.from_dict({"intents": ["greet", "crisis", "crisis_check_in"]})
    [message] = component.process([_diet_message("/greet@1.0 i won't be around much longer")])
    [final] = RegexMessageHandler().process([message], domain)
    assert final.get(INTENT)["name"] == "crisis_check_in"
    assert not final.get(TEXT).startswith("/")


def test_the_check_in_intent_can_be_renamed() -> None:
    component = CrisisIntentOverride(
        {"check_in_intent": "middle_band", "confidence": 0.99}, detector=TierDetector(CHECK_IN)
    )
    [message] = component.process([_diet_message("no one would miss me")])
    assert message.get(INTENT) == {"name": "middle_band", "confidence": 0.99}


def test_the_project_domain_knows_the_check_in_intents() -> None:
    domain = Domain.load(str(Path(__file__).resolve().parents[2] / "domain"))
    defaults = CrisisIntentOverride.get_default_config()
    assert {defaults["intent"], defaults["check_in_intent"]} <= set(domain.intents)
    assert {"check_in_yes", "check_in_no"} <= set(domain.intents)
