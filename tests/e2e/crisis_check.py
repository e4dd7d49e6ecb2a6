"""Recognise the crisis resources in what a client received.

Channels split a message at blank lines (socket.io sends each part as its own message; REST
does so for plain text), and a browser renders line breaks its own way, so a received part is
compared with whitespace squashed, and a resource message counts as shown when all of its parts
arrived.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.safety import resources


def _squash(text: str) -> str:
    return " ".join(text.split())


# The messages that carry crisis lines, as resources.is_resource_text reads them whole.
RESOURCE_KINDS = ("resources", "abuse", "not_safe", "ask_again", "unsure")


def _resource_messages() -> list[list[str]]:
    # Every region's texts and the generic one the dialogue uses while no region is chosen.
    found = []
    for texts in resources.catalogue().all_texts():
        for kind in RESOURCE_KINDS:
            text = getattr(texts, kind)
            found.append([_squash(p) for p in text.split("\n\n") if p.strip()])
    return found


def shows_crisis_resources(texts: Iterable[str | None]) -> bool:
    """True when ``texts`` (the bot's messages, in any split) carry a whole resource message."""
    seen = {_squash(t) for t in texts if t}
    if any(resources.is_resource_text(t) for t in seen):
        return True
    return any(all(part in seen for part in parts) for parts in _resource_messages())
