"""The reflection journal: what a user chose, wrote and practised, kept until they erase it.

Actions open one ``session_scope()`` per run and call ``bot.journal.repository``; they never
write SQL. Importing this package connects to nothing. A leaf package: it imports nothing of the
project but the single-file leaf modules of ``bot/`` (``bot.database``, ``bot.sender_ids``,
``bot.secrets``).
"""

from bot.journal.db import (
    database_url,
    engine_for,
    rasa_tracker_store_config,
    session_scope,
    upgrade,
)
from bot.journal.errors import JournalError, JournalInputError, JournalNotFound, JournalUnavailable
from bot.journal.inputs import RoleplayReplyIn, ValueRatingIn

__all__ = [
    "JournalError",
    "JournalInputError",
    "JournalNotFound",
    "JournalUnavailable",
    "RoleplayReplyIn",
    "ValueRatingIn",
    "database_url",
    "engine_for",
    "rasa_tracker_store_config",
    "session_scope",
    "upgrade",
]
