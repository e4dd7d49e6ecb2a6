"""How a data export travels and how big it may be.

An export is sent to the user once and never kept in the conversation log: the tracker store
(``tracker_store.ErasingSQLTrackerStore``) stores a short placeholder instead of any bot message
that carries ``EXPORT_KEY`` or a ``document``. Without this each export would be saved as a bot
event and copied, escaped again, into the next export (about 2.7x growth per export).

One export is also capped: the conversation log grows with every turn, so a file rendered by
``render`` holds at most ``MAX_EXPORT_BYTES``; the newest entries are kept, and the export says
what was left out and how to get it (``repository.export_user``).
"""

from __future__ import annotations

import json
from typing import Any

EXPORT_KEY = "secure_base_export"
EXPORT_FILENAME = "secure-base-my-data.json"
# What the conversation log keeps of an export message instead of its body.
PLACEHOLDER = {EXPORT_KEY: {"kept": False, "note": "an export was sent; it is not kept here"}}
# The most one export file may hold (as ``render`` writes it); far below Telegram's 50 MB for a
# file, and small enough to keep in ``pending_exports`` for the web page's download.
MAX_EXPORT_BYTES = 1_000_000
# The operator's command for everything (``bot.journal.cli``), named in a capped export.
FULL_EXPORT_COMMAND = "python -m bot.journal export"


def is_export_message(custom: Any) -> bool:
    """True for a bot message's ``custom`` payload that carries an export body."""
    return isinstance(custom, dict) and (EXPORT_KEY in custom or "document" in custom)


def render(export: Any) -> str:
    """The export as the file a user gets (Telegram, the web page's download): indented JSON."""
    return json.dumps(export, ensure_ascii=False, indent=2, default=str)


def item_size(item: Any) -> int:
    """The bytes ``item`` adds to ``render``'s output as an element of a top-level list.

    Such an element sits two levels deep: each of its lines gains four spaces of indentation,
    and it is preceded by a line break and followed by a comma.
    """
    text = render(item)
    return len(text.encode("utf-8")) + 4 * text.count("\n") + 6
