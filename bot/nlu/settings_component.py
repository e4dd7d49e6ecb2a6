"""The base of the NLU components built from their settings alone: nothing trained or stored.

Rasa builds a graph component with ``create(config, model_storage, resource,
execution_context)``; a component that needs only its settings (``InputGuard``,
``CrisisIntentOverride``) gets that here, once, and says what to load before the first message
in :meth:`SettingsComponent.warm_up`. It is not registered as a graph component; each
component registers itself.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage


class SettingsComponent(GraphComponent):
    """A graph component whose constructor takes its settings (config.yml) and nothing else,
    and checks them with a clear error that names the component and the key."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SettingsComponent:
        component = cls(config)
        component.warm_up()
        return component

    def warm_up(self) -> None:
        """Load now what the first message would otherwise wait for (nothing by default)."""
