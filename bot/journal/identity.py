"""Pseudonymous user ids: the journal never stores a raw sender id.

A user is ``HMAC-SHA256(secret, "channel:bare sender id")``: the channel's prefix on the sender id
(``tg:42``, bot/sender_ids.py) is taken off first, so a user's pseudonym is the one it was before
sender ids carried their channel. The secret comes from ``SECURE_BASE_ID_SECRET`` (checked by
``bot.secrets.check_secret``) or, for a single-process ``make run`` when that is unset, from
``var/id_secret`` (created once, mode 0600). A deployment of several processes must set it
(``require_id_secret``).

Trap: every process that opens the journal (action server, CLI) must see the same secret, and
losing it orphans every journal row (they can no longer be found from a sender id, nor erased).
``fingerprint`` gives a keyed digest of the secret that the repository records in the database
on first use and compares on every later start, so a process with another secret is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from bot import sender_ids
from bot.database import VAR_DIR
from bot.secrets import SecretError, check_secret

logger = logging.getLogger(__name__)

ID_SECRET_ENV = "SECURE_BASE_ID_SECRET"
DEFAULT_SECRET_FILE = VAR_DIR / "id_secret"


def load_id_secret(path: Path | None = None) -> bytes:
    """The HMAC key: the environment first, else the secret file (created on first use)."""
    from_env = os.environ.get(ID_SECRET_ENV, "")
    if from_env.strip():
        return check_secret(ID_SECRET_ENV, from_env).encode("utf-8")
    secret_file = path or DEFAULT_SECRET_FILE
    try:
        return _read_secret(secret_file)
    except FileNotFoundError:
        pass
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when two processes start together, exactly one writes and both read its key.
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(secret_file)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    logger.info("created a new pseudonym secret in %s", secret_file)
    return _read_secret(secret_file)


def require_id_secret() -> bytes:
    """The checked secret from the environment, for deployments: unset is refused.

    A generated file would differ per machine or container, so each process would compute other
    pseudonyms and erasure would miss data; a deployment must share one configured value.
    """
    if not os.environ.get(ID_SECRET_ENV, "").strip():
        raise SecretError(
            f"{ID_SECRET_ENV} is not set: every process of a deployment must share one pseudonym "
            "secret (for instance: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return load_id_secret()


def fingerprint(secret: bytes) -> str:
    """A digest that identifies ``secret`` without revealing it (keyed by the secret itself)."""
    return hmac.new(secret, b"secure-base/id-secret-fingerprint/1", hashlib.sha256).hexdigest()


def _read_secret(secret_file: Path) -> bytes:
    value = secret_file.read_text(encoding="ascii").strip()
    if not value:
        raise RuntimeError(f"{secret_file} is empty; delete it or set {ID_SECRET_ENV}")
    return value.encode("ascii")


def pseudonym(channel: str, sender_id: str, secret: bytes | None = None) -> str:
    """The stable pseudonymous id (64 hex characters) of one sender on one channel."""
    key = secret if secret is not None else load_id_secret()
    bare = sender_ids.bare_id(sender_id, channel)
    message = f"{channel}:{bare}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def short(pseudonymous_id: str) -> str:
    """The first characters of a pseudonym: enough to follow one user through the logs."""
    return pseudonymous_id[:12]
