"""An intent classifier over the shared sentence encoder: no TensorFlow on the message path.

A multinomial logistic regression reads the shared all-MiniLM-L6-v2 vector of the message
(``bot.encoder``) beside hashed word and character n-grams (``bot.text_features``, the same
features as the crisis detector's learned layer). It sets ``intent`` and ``intent_ranking`` as
DIET does, so the input guard, the fallback classifier, the ResponseSelector for ``learn`` and
the crisis override after it work unchanged.

Training and persistence: the weights are fitted by ``rasa train`` like any component and saved
as plain numpy arrays (``numpy.savez``, no pickle) in the model's storage, with the sha256 of
the encoder they were trained on; the encoder's own weights come from the installed package
(``bot.encoder``), never from the model archive. Loading a model trained on another encoder
fails with a message saying so.

The crisis detector embeds the same raw text first (channel fail-safe), so here the vector
normally comes from the encoder's cache and the forward pass runs once per message.

config.yml, in place of DIET::

    - name: bot.nlu.sentence_classifier.SentenceIntentClassifier
      c: 16.0

``python -m bot.nlu.cv`` cross-validates it on ``data/nlu`` (intent F1, the
share of messages below a fallback threshold, the right intent among the top three).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoder
from bot.text_features import HashedNgrams, LinearWeights, fit_compact

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "sentence_classifier.npz"


class SentenceClassifierError(ValueError):
    """The component's settings or its saved weights are not usable."""


def training_pairs(training_data: TrainingData) -> tuple[list[str], list[str]]:
    """(texts, intents) of the examples a classifier learns from (retrieval intents whole:
    ``learn``; the ResponseSelector picks the answer)."""
    texts, labels = [], []
    for example in training_data.intent_examples:
        text, intent = example.get(TEXT), example.get(INTENT)
        if isinstance(text, str) and text.strip() and intent:
            texts.append(text)
            labels.append(str(intent))
    return texts, labels


def fit(
    texts: Sequence[str], labels: Sequence[str], c: float, vectors: np.ndarray | None = None
) -> LinearWeights:
    """Fitted, compacted weights for the texts (``vectors``: their encoder vectors if known)."""
    if vectors is None:
        vectors = encoder.get_encoder().encode(list(texts))
    return fit_compact(vectors, list(texts), list(labels), c)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class SentenceIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over [encoder vector | hashed n-grams] -> intent and ranking."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """``c``: inverse regularisation of the logistic regression (chosen by cross-validation,
        docs/nlu.md); ``ranking_length``: how many intents ``intent_ranking`` lists."""
        return {"c": 8.0, "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: LinearWeights | None = None,
    ) -> None:
        settings = {**self.get_default_config(), **(config or {})}
        c = settings.get("c")
        if isinstance(c, bool) or not isinstance(c, int | float) or not c > 0:
            raise SentenceClassifierError(
                f"SentenceIntentClassifier: 'c' must be a positive number, got {c!r} "
                "(config.yml, pipeline)"
            )
        length = settings.get("ranking_length")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise SentenceClassifierError(
                "SentenceIntentClassifier: 'ranking_length' must be a positive whole number, "
                f"got {length!r} (config.yml, pipeline)"
            )
        self.c = float(c)
        self.ranking_length = length
        self.weights = weights
        self._ngrams = HashedNgrams()
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceIntentClassifier:
        return cls(config, model_storage, resource)

    # -- training -----------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = training_pairs(training_data)
        if len(set(labels)) < 2:
            raise SentenceClassifierError(
                "SentenceIntentClassifier needs examples of at least two intents to train"
            )
        self.weights = fit(texts, labels, self.c)
        logger.info(
            "SentenceIntentClassifier: %d examples, %d intents, %d hashed n-gram rows kept",
            len(texts),
            len(self.weights.classes),
            len(self.weights.sparse_rows if self.weights.sparse_rows is not None else ()),
        )
        with self._model_storage.write_to(self._resource) as directory:
            self.weights.save(
                directory / WEIGHTS_FILE, encoder_sha256=np.array(encoder.MODEL_SHA256)
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceIntentClassifier:
        """The trained weights; the encoder is loaded now so the first user does not wait."""
        try:
            with model_storage.read_from(resource) as directory:
                weights, extra = LinearWeights.load(directory / WEIGHTS_FILE)
        except (ValueError, FileNotFoundError, OSError) as error:
            raise SentenceClassifierError(
                f"SentenceIntentClassifier: the trained weights could not be read ({error}); "
                "train the model again (`make model`)"
            ) from error
        trained_on = str(extra.get("encoder_sha256", ""))
        if trained_on != encoder.MODEL_SHA256:
            raise SentenceClassifierError(
                "SentenceIntentClassifier: this model was trained with another sentence encoder "
                f"(sha256 {trained_on[:12] or 'unknown'}, installed {encoder.MODEL_SHA256[:12]}); "
                "train the model again (`make model`)"
            )
        encoder.get_encoder()
        return cls(config, model_storage, resource, weights)

    # -- prediction ---------------------------------------------------------------------------

    def process(self, messages: list[Message]) -> list[Message]:
        if self.weights is None:
            raise SentenceClassifierError("SentenceIntentClassifier used before training")
        for message in messages:
            text = message.get(TEXT)
            text = text if isinstance(text, str) else ""
            probabilities = self.probabilities(text)
            order = np.argsort(-probabilities, kind="stable")[: self.ranking_length]
            ranking = [
                {"name": self.weights.classes[i], "confidence": float(probabilities[i])}
                for i in order
            ]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def probabilities(self, text: str) -> np.ndarray:
        """Every intent's probability for one text (in ``weights.classes`` order)."""
        vector = encoder.embed(text)[None, :]  # shared with the crisis detector (cache)
        return self.weights.probabilities(vector, [text], self._ngrams)[0]

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
