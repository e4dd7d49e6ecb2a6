"""Rasa NLU component that makes the crisis detector's verdict the intent.

DIET learns ``crisis`` from a few examples and will miss messages it has never seen; the
rule-based detector (``bot.safety``) is the floor. When it fires, this component sets the
intent with confidence 1.0 and puts it first in ``intent_ranking``: ``crisis`` (the full
resources) for the detector's tier ``full``, ``crisis_check_in`` (the direct check-in question,
``bot.policies.check_in``) for the middle band, tier ``check_in``. When it does not fire, the
prediction is left alone, so a crisis that only DIET recognised is kept.

The ``/`` bypass: after the NLU pipeline Rasa runs ``RegexMessageHandler``
(``rasa/engine/recipes/default_recipe.py`` adds it as the last predict node), which calls
``YAMLStoryReader.unpack_regex_message``: any text that starts with ``/`` (after ``strip()``) and
parses as ``/intent@confidence{entities}`` is replaced by a new message with that intent, e.g.
``/greet@1.0 I want to die`` -> ``greet``. The handler only looks at the text, so when a crisis is
found in such a message this component removes the leading slashes (and the whitespace around
them) from the message text: the handler then returns the message unchanged and ``crisis``
stands. ``UserUttered`` keeps the original text (``MessageProcessor`` builds it from the
``UserMessage``, not from the parse data). Button payloads such as ``/deny_safe`` carry no crisis
words and are left alone.

Place it last in the pipeline (after ``FallbackClassifier``): the fallback classifier compares the
top two confidences, and a 1.0 crisis above a 0.99 guess would look "ambiguous" to it.
    - name: bot.nlu.crisis_detector.CrisisIntentOverride
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.settings_component import SettingsComponent
from bot.safety import CrisisDetector, CrisisResult
from bot.safety.detector import TIER_CHECK_IN, default_detector

logger = logging.getLogger(__name__)

CATEGORIES_KEY = "crisis_categories"
PATTERNS_KEY = "crisis_patterns"
TIER_KEY = "crisis_tier"
SIGNS_KEY = "crisis_signs"
_INTENT_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")


class CrisisIntentOverrideConfigError(ValueError):
    """The component's settings in config.yml are not usable."""


def strip_intent_prefix(text: str) -> str:
    """``text`` without the leading slashes (and whitespace) Rasa would read as an intent."""
    stripped = text
    while True:
        candidate = stripped.strip().lstrip(INTENT_MESSAGE_PREFIX)
        if candidate == stripped:
            return stripped
        stripped = candidate


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisIntentOverride(SettingsComponent):
    """Sets the crisis intent (or, for the middle band, the check-in intent) whenever
    ``bot.safety`` detects a crisis in the message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``intent``: the crisis intent; ``check_in_intent``: the middle band's;
        ``confidence``: what to report for either; ``defeat_intent_prefix``: strip a leading
        "/" from crisis messages (see module doc)."""
        return {
            "intent": "crisis",
            "check_in_intent": "crisis_check_in",
            "confidence": 1.0,
            "defeat_intent_prefix": True,
        }

    def __init__(self, config: dict[str, Any], detector: CrisisDetector | None = None) -> None:
        settings = {**self.get_default_config(), **(config or {})}
        names = {}
        for key in ("intent", "check_in_intent"):
            name = settings.get(key)
            if not isinstance(name, str) or not _INTENT_NAME_RE.match(name):
                raise CrisisIntentOverrideConfigError(
                    f"CrisisIntentOverride: '{key}' must be an intent name, got {name!r} "
                    "(config.yml, pipeline)"
                )
            names[key] = name
        if names["intent"] == names["check_in_intent"]:
            raise CrisisIntentOverrideConfigError(
                "CrisisIntentOverride: 'intent' and 'check_in_intent' must differ "
                "(config.yml, pipeline)"
            )
        confidence = settings.get("confidence")
        if (
            isinstance(confidence, bool)
            or not isinstance(confidence, int | float)
            or not 0.0 < float(confidence) <= 1.0
        ):
            raise CrisisIntentOverrideConfigError(
                "CrisisIntentOverride: 'confidence' must be a number above 0 and at most 1, "
                f"got {confidence!r} (config.yml, pipeline)"
            )
        defeat = settings.get("defeat_intent_prefix")
        if not isinstance(defeat, bool):
            raise CrisisIntentOverrideConfigError(
                "CrisisIntentOverride: 'defeat_intent_prefix' must be true or false, "
                f"got {defeat!r} (config.yml, pipeline)"
            )
        self.intent = names["intent"]
        self.check_in_intent = names["check_in_intent"]
        self.confidence = float(confidence)
        self.defeat_intent_prefix = defeat
        self._detector = detector

    def warm_up(self) -> None:
        """Load the detector now, so broken safety data stops start-up and the first user does
        not wait for the patterns to compile."""
        self.detector.load()

    @property
    def detector(self) -> CrisisDetector:
        return self._detector or default_detector()

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intent of every message in which the detector finds a crisis."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            result = self.detector.detect(text)  # never raises; errors count as a crisis
            if result.is_crisis:
                self._mark_crisis(message, text, result)
        return messages

    def _mark_crisis(self, message: Message, text: str, result: CrisisResult) -> None:
        # The detector's tier decides, whatever DIET guessed: it is the reviewed floor.
        name = self.check_in_intent if result.tier == TIER_CHECK_IN else self.intent
        crisis = {"name": name, "confidence": self.confidence}
        ranking = [
            dict(entry)
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get("name") != name
        ]
        message.set(INTENT, crisis, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(crisis), *ranking], add_to_output=True)
        message.set(CATEGORIES_KEY, list(result.categories), add_to_output=True)
        message.set(PATTERNS_KEY, list(result.matched), add_to_output=True)
        message.set(TIER_KEY, result.tier, add_to_output=True)
        message.set(SIGNS_KEY, list(result.signs), add_to_output=True)
        if self.defeat_intent_prefix and text.strip().startswith(INTENT_MESSAGE_PREFIX):
            message.set(TEXT, strip_intent_prefix(text))
            logger.info("crisis found in a '/'-prefixed message; intent prefix removed")
