"""Conversation scripts for the benchmark: YAML lists of what a user sends, turn by turn.

A turn is the exact text a client posts: typed words, or a button payload (``/start_roleplay``)
as the web page sends it when a button is pressed. Scripts are data so that anyone can add a
conversation when a new exercise lands, without touching the load generator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_PAYLOAD_RE = re.compile(r"/(?P<intent>[A-Za-z0-9_\-]+)(\{.*\})?", re.DOTALL)


class ScriptError(ValueError):
    """A conversation script is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Conversation:
    """One scripted conversation: a name (for reports) and the user's turns in order."""

    name: str
    turns: tuple[str, ...]


@dataclass(frozen=True)
class ScriptSet:
    """Everything one script file holds."""

    source: Path
    conversations: tuple[Conversation, ...]
    # Replies a user types during the role-play, for timing the assessor on its own.
    assessor_replies: tuple[str, ...] = ()

    @property
    def turns(self) -> list[str]:
        """Every turn of every conversation, in order (the crisis detector's realistic mix)."""
        return [turn for conversation in self.conversations for turn in conversation.turns]


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ScriptError(f"{where}: must be a non-empty list of messages")
    items = []
    for index, item in enumerate(value):
        # YAML reads `- yes` as True and `- 8` as 8: a script must quote those.
        if not isinstance(item, str):
            raise ScriptError(
                f"{where}[{index}]: must be a string, got {type(item).__name__} {item!r} "
                "(quote it in the YAML)"
            )
        if not item.strip():
            raise ScriptError(f"{where}[{index}]: must not be empty")
        items.append(item)
    return tuple(items)


def parse_scripts(data: Any, source: Path) -> ScriptSet:
    """Validate already-parsed YAML; ``source`` is only used in error messages."""
    if not isinstance(data, dict):
        raise ScriptError(f"{source}: the top level must be a mapping with 'conversations'")
    unknown = set(data) - {"conversations", "assessor_replies"}
    if unknown:
        raise ScriptError(f"{source}: unknown key(s) {sorted(unknown)}")
    raw = data.get("conversations")
    if not isinstance(raw, dict) or not raw:
        raise ScriptError(f"{source}: conversations: must be a non-empty mapping name -> turns")
    conversations = tuple(
        Conversation(str(name), _string_list(turns, f"{source}: conversations.{name}"))
        for name, turns in raw.items()
    )
    replies: tuple[str, ...] = ()
    if data.get("assessor_replies") is not None:
        replies = _string_list(data["assessor_replies"], f"{source}: assessor_replies")
    return ScriptSet(source=source, conversations=conversations, assessor_replies=replies)


def load_scripts(path: Path) -> ScriptSet:
    """Read and validate one script file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ScriptError(f"{path}: no such conversation script") from exc
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path}: not valid YAML ({exc})") from exc
    return parse_scripts(data, path)


def payload_intents(turns: Iterable[str]) -> set[str]:
    """The intents named by button payloads among the turns."""
    names = set()
    for turn in turns:
        match = _PAYLOAD_RE.fullmatch(turn)
        if match:
            names.add(match["intent"])
    return names
