"""Helpers for the policy tests: policies built as Rasa builds them, trackers from events.

No trained model: the policies read the project's real domain (the ``domain`` fixture in
``conftest.py``) and Rasa's real trackers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.question_policy import QuestionPolicy

DOMAIN_DIR = Path(__file__).resolve().parents[2] / "domain"


def build_policy(
    cls: type[QuestionPolicy], tmp_path: Path, config: dict[str, Any] | None = None
) -> QuestionPolicy:
    """``cls`` with ``config`` (its defaults if none), as the graph constructs it."""
    return cls(
        cls.get_default_config() if config is None else config,
        LocalModelStorage(tmp_path),
        Resource(cls.__name__),
        ExecutionContext(GraphSchema({}), "test"),
    )


def user_says(text: str, intent: str) -> UserUttered:
    return UserUttered(text, intent={"name": intent, "confidence": 0.97})


def tracker_of(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("someone", [ActionExecuted("action_listen"), *events])


def predicted(policy: QuestionPolicy, tracker: DialogueStateTracker, domain: Domain) -> str | None:
    """The action ``policy`` predicts for ``tracker``, or None when it abstains."""
    prediction = policy.predict_action_probabilities(tracker, domain)
    if prediction.max_confidence == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]
