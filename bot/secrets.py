"""Secrets read from the environment, checked before anything starts.

Every secret Secure Base takes (the REST token, the action-server token, the pseudonym key, the
socket.io signing key, Telegram's webhook secret) goes through ``check_secret``: the example
values of ``.env.example`` and short strings are refused with a message that names the setting,
so a placeholder copied into ``.env`` can never act as a real key.

A leaf module: it imports nothing of the project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

MIN_SECRET_CHARS = 32

# The example values shipped in .env.example and the docs, and the usual stand-ins. Compared
# case-insensitively; a secret containing one of the marker words is refused too.
KNOWN_PLACEHOLDERS = frozenset(
    {
        "a-long-random-string-shared-by-every-process",
        "another-long-random-string",
        "a-random-string-of-letters-digits-and-underscores",
        "a-long-random-token-for-tools-and-tests",
        "a-long-random-token-shared-by-rasa-and-the-action-server",
        "secret",
        "changeme",
        "change-me",
        "password",
        "token",
    }
)
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "your-", "random-string", "example", "xxxx")


class SecretError(ValueError):
    """A secret setting is missing, a placeholder, or too weak; the message names the setting."""


def check_secret(name: str, value: str, *, min_chars: int = MIN_SECRET_CHARS) -> str:
    """Return ``value`` if it can serve as the secret ``name``; raise ``SecretError`` otherwise."""
    secret = value.strip()
    lowered = secret.casefold()
    if lowered in KNOWN_PLACEHOLDERS or any(m in lowered for m in _PLACEHOLDER_MARKERS):
        raise SecretError(
            f"{name} is still an example value; set it to a random string of at least "
            f"{min_chars} characters (for instance: python3 -c 'import secrets; "
            f"print(secrets.token_urlsafe(32))')"
        )
    if len(secret) < min_chars:
        raise SecretError(
            f"{name} is {len(secret)} characters long; it needs at least {min_chars} "
            f"(for instance: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    if len(set(secret)) < 8:
        raise SecretError(f"{name} repeats a few characters; use a random string")
    return secret


def secret_from_env(
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    min_chars: int = MIN_SECRET_CHARS,
) -> str | None:
    """The checked secret ``name`` from the environment, or None when it is unset or empty."""
    env = os.environ if environ is None else environ
    raw = env.get(name, "")
    if not raw.strip():
        return None
    return check_secret(name, raw, min_chars=min_chars)
