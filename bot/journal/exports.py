"""How a data export travels: the marker every channel's export message carries.

An export is sent to the user once and never kept in the conversation log: the tracker store
(``tracker_store.ErasingSQLTrackerStore``) stores a short placeholder instead of any bot message
that carries ``EXPORT_KEY`` or a ``document``. Without this each export would be saved as a bot
event and copied, escaped again, into the next export (about 2.7x growth per export).
"""

from __future__ import annotations

from typing import Any

EXPORT_KEY = "secure_base_export"
EXPORT_FILENAME = "secure-base-my-data.json"
# What the conversation log keeps of an export message instead of its body.
PLACEHOLDER = {EXPORT_KEY: {"kept": False, "note": "an export was sent; it is not kept here"}}


def is_export_message(custom: Any) -> bool:
    """True for a bot message's ``custom`` payload that carries an export body."""
    return isinstance(custom, dict) and (EXPORT_KEY in custom or "document" in custom)
