"""Rasa's ResponseSelector, asked only about messages whose intent is a retrieval intent.

The stock component runs its TensorFlow model on every message, although its answer is used
only when the message's intent is a retrieval intent (here ``learn``: the questions about
codependency, DBT, ACT and their sources). That was 10-12 % of the Rasa server's busy time under
load (py-spy, docs/performance.md). This subclass skips the other messages; for ``learn``
messages it answers exactly as the stock one does.

Place it after DIET, as the stock ResponseSelector; config.yml:
``- name: bot.nlu.retrieval_selector.RetrievalResponseSelector``.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


def intent_name(message: Message) -> str | None:
    intent = message.get(INTENT) or {}
    return intent.get(INTENT_NAME_KEY) if isinstance(intent, dict) else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class RetrievalResponseSelector(ResponseSelector):
    """Selects a response only where the intent is one of the retrieval intents."""

    def process(self, messages: list[Message]) -> list[Message]:
        retrieval = set(self.all_retrieval_intents)
        asked = [m for m in messages if intent_name(m) in retrieval]
        if asked:
            super().process(asked)
        return messages
