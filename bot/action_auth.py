"""The action server trusts only Rasa: every call must carry the shared action token.

The action server runs any action for any tracker it is sent (export, erase), so it is a data API.
Rasa sends ``Authorization: Bearer <SECURE_BASE_ACTION_TOKEN>`` (the ``headers:`` of
endpoints.yml's ``action_endpoint``); a request middleware answers 401 to anything else before
rasa-sdk reads the body. ``/health`` stays open: it says nothing and launchers wait on it.

Installed through rasa-sdk's own start-up hook (``rasa_sdk_plugins``, which rasa-sdk imports
when the server starts), and the server refuses to start without a strong token.
"""

from __future__ import annotations

import hmac
import logging

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.secrets import SecretError, secret_from_env

logger = logging.getLogger(__name__)

TOKEN_ENV = "SECURE_BASE_ACTION_TOKEN"
OPEN_PATHS = frozenset({"/health"})
UNAUTHORIZED_TEXT = (
    "Only the Rasa server may call the action server: send 'Authorization: Bearer <token>' "
    f"with the value of {TOKEN_ENV}."
)


class ActionTokenMissing(SecretError):
    """The action server cannot start: no token is set."""


def load_action_token() -> str:
    """The checked token; raises ``SecretError`` (naming the setting) when unset or weak."""
    token = secret_from_env(TOKEN_ENV)
    if token is None:
        raise ActionTokenMissing(
            f"{TOKEN_ENV} is not set: the action server only runs actions for a Rasa server "
            "that sends this token. Set it (the same value) for the action server and the Rasa "
            "server; scripts/run.sh makes one in var/action_token."
        )
    return token


def authorized(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (compared in constant time)."""
    scheme, _, presented = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return False
    return hmac.compare_digest(presented.strip().encode("utf-8"), token.encode("utf-8"))


def require_token(app: Sanic, token: str) -> None:
    """Refuse (401) every request but ``/health`` that does not carry ``token``."""

    async def check(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if authorized(request.headers.get("authorization"), token):
            return None
        logger.warning(
            "action server: refused a %s %s without the token", request.method, request.path
        )
        return response.json(
            {"error": UNAUTHORIZED_TEXT},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="actions"'},
        )

    # Request middleware that returns a response ends the request before any route runs.
    app.register_middleware(check, "request")
