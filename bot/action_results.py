"""Check the action server's answers with one prepared JSON-schema validator instead of a new one.

Rasa 3.6 checks every answer of the action server with ``jsonschema.validate(result, schema)``
(``RemoteAction._validate_action_result``). That call first validates the *schema itself*
against the JSON-schema meta-schema, then builds a new validator, on every custom action: about
39 ms of CPU per action on this project's 2-core machine, and more than half of the Rasa server's
busy time under 20 concurrent conversations (py-spy profile in docs/performance.md).

:func:`install` replaces that method with one that checks the same schema, taken from Rasa's own
``RemoteAction.action_response_format_spec()``, with a validator built once: about 2 ms. The
outcome is the same: a valid answer passes, an invalid one raises the same
``jsonschema.ValidationError`` (the most relevant error, as ``jsonschema.validate`` picks it)
with Rasa's hint appended. ``tests/bot/test_action_results.py`` compares both on valid and broken
answers.

Installed by :func:`bot.rasa_overrides.install` (every channel of this project calls it at
start-up), so it is active in the Rasa server whenever this project's channels are; ``install``
is idempotent.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import validators
from jsonschema.exceptions import ValidationError, best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_HINT = (
    ". Failed to validate Action server response from API, make sure your response from the "
    f"Action endpoint is valid. For more information about the format visit "
    f"{DOCS_BASE_URL}/custom-actions"
)

_STOCK = RemoteAction._validate_action_result


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)  # once, not per answer
    return cls(schema)


def validate_action_result(result: dict[str, Any]) -> bool:
    """Raise ``jsonschema.ValidationError`` unless ``result`` is a well-formed action answer."""
    error = best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += _HINT
        raise error
    return True


def _validate(self: RemoteAction, result: dict[str, Any]) -> bool:
    return validate_action_result(result)


def install() -> None:
    """Make Rasa's ``RemoteAction`` use the prepared validator (idempotent)."""
    RemoteAction._validate_action_result = _validate  # type: ignore[method-assign]


def installed() -> bool:
    return RemoteAction._validate_action_result is _validate


def stock_validate(result: dict[str, Any]) -> bool:
    """Rasa's own check, unchanged: for comparisons in tests and benchmarks."""
    return _STOCK(RemoteAction("action_compare", None), result)


__all__ = ["ValidationError", "install", "installed", "stock_validate", "validate_action_result"]
