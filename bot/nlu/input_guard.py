"""An NLU component that stops the classifiers from guessing on input they cannot read.

DIET always returns some intent, often with high confidence, even for an empty message, a row of
emoji or a 5,000-character paragraph whose words pull in every direction. For those we prefer an
honest "I didn't follow, could you say it in a sentence or two?" (the ``nlu_fallback`` rule) over
a confident guess. It also marks the parse data (``input_unreadable: true``) so the fallback action
does not offer "did you mean" buttons for such input (``bot.nlu.suggestions``). The crisis override runs after this component, so a crisis sentence inside a
long or odd message still wins.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.settings_component import SettingsComponent
from bot.nlu.suggestions import FALLBACK_INTENT, UNREADABLE_KEY


class InputGuardConfigError(ValueError):
    """The component's settings in config.yml are not usable."""


def is_unreadable(text: str | None, max_chars: int) -> bool:
    """True for text with no letters or digits at all, or longer than ``max_chars``."""
    if not text:
        return True
    if len(text) > max_chars:
        return True
    return not any(ch.isalnum() for ch in text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class InputGuard(SettingsComponent):
    """Replaces the predicted intent with ``nlu_fallback`` for unreadable input."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 4000}

    def __init__(self, config: dict[str, Any]) -> None:
        max_chars = config.get("max_chars")
        if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
            raise InputGuardConfigError(
                f"InputGuard: 'max_chars' must be a positive whole number, got {max_chars!r} "
                "(config.yml, pipeline)"
            )
        self._max_chars = max_chars

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            # Button payloads ("/intent") never reach here with text the user typed: the
            # regex handler takes them after the pipeline, so leave those alone.
            if isinstance(text, str) and text.startswith("/"):
                continue
            if is_unreadable(text, self._max_chars):
                self._set_fallback(message)
        return messages

    @staticmethod
    def _set_fallback(message: Message) -> None:
        ranking = [
            entry
            for entry in message.get(INTENT_RANKING_KEY) or []
            if entry.get("name") != FALLBACK_INTENT
        ]
        top = {"name": FALLBACK_INTENT, "confidence": 1.0}
        message.set(UNREADABLE_KEY, True, add_to_output=True)
        message.set(INTENT, top, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
