"""What the two question policies share: the settings check, the domain check, the prediction.

``SafetyQuestionPolicy`` and ``CheckInPolicy`` each read the reply to a question the bot asked
and choose one response. This base class turns that choice into Rasa's prediction: confidence
1.0 for the chosen action and ``is_no_user_prediction``, so no form, rule or fallback takes the
reply; an abstention (no action, or one the domain lacks) predicts nothing. It is not registered
as a graph component; each policy registers itself.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)


class QuestionPolicy(Policy):
    """A policy that answers the reply to its question and abstains everywhere else.

    A policy states its own error type (``config_error``), what it needs in the domain
    (:meth:`missing_from`) and its choice (:meth:`_next_action`, plus any optional events).
    """

    config_error: type[ValueError] = ValueError

    @staticmethod
    def supported_data() -> SupportedData:
        return SupportedData.ML_AND_RULE_DATA

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        config = {**self.get_default_config(), **config}
        priority = config.get("priority")
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise self.config_error(
                f"{self.__class__.__name__}: 'priority' must be a whole number "
                "(config.yml, policies)"
            )
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    @staticmethod
    @abc.abstractmethod
    def missing_from(domain: Domain) -> list[str]:
        """The responses and intents the policy uses that ``domain`` lacks."""

    @abc.abstractmethod
    def _next_action(self, tracker: DialogueStateTracker) -> str | None:
        """The action to predict now, or None to abstain."""

    def _instead_of_missing(self, action: str) -> str | None:
        """What to predict when the domain lacks ``action`` (None: abstain)."""
        return None

    def _optional_events(self, action: str, tracker: DialogueStateTracker) -> list[Event]:
        """Events to apply if ``action`` wins (none unless a policy says otherwise)."""
        return []

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn; checks that the domain has everything the policy uses."""
        missing = self.missing_from(domain)
        if missing:
            raise self.config_error(
                f"{self.__class__.__name__} needs these in the domain: {', '.join(missing)}"
            )
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        action = self._next_action(tracker)
        if action is not None and action not in domain.action_names_or_texts:
            action = self._instead_of_missing(action)
        if action is None or action not in domain.action_names_or_texts:
            return self._prediction(self._default_predictions(domain))
        logger.debug("%s: predicting %s", self.__class__.__name__, action)
        probabilities = self._default_predictions(domain)
        probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(
            probabilities,
            is_no_user_prediction=True,
            optional_events=self._optional_events(action, tracker),
        )
