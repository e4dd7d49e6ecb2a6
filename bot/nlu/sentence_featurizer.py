"""The shared sentence encoder's vector as a dense sentence feature, for DIET and its kin.

The alternative to :mod:`bot.nlu.sentence_classifier`, kept so the two can be measured against
each other (docs/nlu.md): DIET (or any classifier that reads featurizers) gets the
all-MiniLM-L6-v2 vector of the message text as a sentence feature beside the sparse n-gram
ones. No sequence features: the encoder gives one pooled vector per text.

config.yml, after the CountVectorsFeaturizers and before DIET::

    - name: bot.nlu.sentence_featurizer.SentenceFeaturizer
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoder


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the encoder's sentence vector to each message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        return None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceFeaturizer:
        encoder.get_encoder()
        return cls(execution_context.node_name, {**cls.get_default_config(), **config})

    def _set(self, message: Message, vector: np.ndarray) -> None:
        self.add_features_to_message(None, vector[None, :].astype(np.float32), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = [m for m in training_data.training_examples if isinstance(m.get(TEXT), str)]
        vectors = encoder.get_encoder().encode([m.get(TEXT) for m in messages])
        for message, vector in zip(messages, vectors, strict=True):
            self._set(message, vector)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            self._set(message, encoder.embed(text if isinstance(text, str) else ""))
        return messages
