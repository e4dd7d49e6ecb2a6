"""The journal's exceptions: few, so that actions can catch them and answer kindly.

Messages never contain user text or sender ids: actions may show or log them as they are.
"""

from __future__ import annotations


class JournalError(Exception):
    """Base class of everything the journal raises on purpose."""


class JournalUnavailable(JournalError):
    """The database cannot be reached (or has no schema yet): "I can't reach my notebook"."""


class JournalInputError(JournalError, ValueError):
    """Input the journal will not store (too long, empty, out of range); the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class JournalNotFound(JournalError, LookupError):
    """The entry asked for does not exist or belongs to someone else."""


class IdSecretMismatch(JournalUnavailable):
    """This process's pseudonym secret is not the one the database was first used with."""


class JournalConsentMissing(JournalError):
    """The user has not agreed (or has declined) that the bot keeps their answers."""
