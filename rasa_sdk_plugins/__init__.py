"""rasa-sdk's plugin hook: rasa-sdk imports this package when the action server starts.

``rasa_sdk.plugin`` looks for a top-level ``rasa_sdk_plugins`` with ``init_hooks(manager)`` and
calls the ``attach_sanic_app_extensions(app)`` hook before the server runs. Two hooks here: one
locks every action behind the shared token (bot/action_auth.py), the other starts the skills'
warm-up (``actions.warm_up``) in a background thread as each server process starts, unless
``SECURE_BASE_WARM_UP=0``. The package must be importable where the action server starts: the
repository root (``rasa run actions`` puts the working directory on ``sys.path``) or an install
of this project.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from typing import Any

import pluggy

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)

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


WARM_UP_THREAD = "secure-base-warm-up"


def start_warm_up() -> threading.Thread | None:
    """``actions.warm_up`` in a background thread, unless ``SECURE_BASE_WARM_UP=0``."""
    import actions  # rasa-sdk imported it already, to register the actions

    if os.environ.get(actions.WARM_UP_ENV, "1").strip() == "0":
        logger.info("warm-up off (%s=0)", actions.WARM_UP_ENV)
        return None
    thread = threading.Thread(target=actions.warm_up, name=WARM_UP_THREAD, daemon=True)
    thread.start()
    return thread


class _WarmUp:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        # A listener, not a call here: it runs in every server process (SANIC_WORKERS), each
        # with its own caches to fill, and never in a process that only imports the actions.
        async def warm_up(_app: Any, _loop: Any) -> None:
            start_warm_up()

        app.register_listener(warm_up, "before_server_start")


def init_hooks(manager: pluggy.PluginManager) -> None:
    """Called by rasa-sdk's plugin manager."""
    manager.register(_TokenCheck())
    manager.register(_WarmUp())
