"""rasa-sdk's plugin hook: rasa-sdk imports this package when the action server starts.

``rasa_sdk.plugin`` looks for a top-level ``rasa_sdk_plugins`` with ``init_hooks(manager)`` and
calls the ``attach_sanic_app_extensions(app)`` hook before the server runs; this one locks every
action behind the shared token (bot/action_auth.py). The package must be importable where the
action server starts: the repository root (``rasa run actions`` puts the working directory on
``sys.path``) or an install of this project.
"""

from __future__ import annotations

import sys

import pluggy

hookimpl = pluggy.HookimplMarker("rasa_sdk")

try:
    from bot.action_auth import load_action_token, require_token
    from bot.secrets import SecretError
except ModuleNotFoundError as error:
    # rasa-sdk skips a plugin that raises ModuleNotFoundError: the server would then run every
    # action for anyone. Anything else stops it.
    raise ImportError(f"the action-server token check cannot load: {error}") from error


class _TokenCheck:
    @hookimpl
    def attach_sanic_app_extensions(self, app: object) -> None:
        try:
            token = load_action_token()
        except SecretError as error:
            print(f"Secure Base action server not started: {error}", file=sys.stderr)
            raise SystemExit(2) from None
        require_token(app, token)


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa-sdk's plugin manager."""
    manager.register(_TokenCheck())
