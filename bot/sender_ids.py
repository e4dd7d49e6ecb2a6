"""Sender ids that carry their channel: ``rest:<id>``, ``web:<session>``, ``tg:<chat id>``.

Rasa keys a conversation (tracker, lock, crisis counter) by the sender id alone, and the journal
keys a user by a pseudonym of channel + id. A bare id let one channel reach another's user: a
Telegram chat id is public, and the REST channel took any sender. Each channel now sets the
prefix itself on every message (a client never chooses it), and everything downstream reads the
channel back from the prefix, never from the event's ``input_channel``.

A leaf module: it imports nothing of the project.
"""

from __future__ import annotations

# channel name (InputChannel.name()) -> prefix of its sender ids
PREFIXES = {"rest": "rest", "socketio": "web", "telegram": "tg"}
_CHANNELS = {prefix: channel for channel, prefix in PREFIXES.items()}
SEPARATOR = ":"


def with_channel(channel: str, bare_id: str) -> str:
    """The sender id the channel ``channel`` hands to Rasa for the client id ``bare_id``."""
    return f"{PREFIXES[channel]}{SEPARATOR}{bare_id}"


def channel_of(sender_id: str) -> str | None:
    """The channel a sender id belongs to, or None for an id no channel of ours made."""
    prefix, separator, bare = sender_id.partition(SEPARATOR)
    if not separator or not bare:
        return None
    return _CHANNELS.get(prefix)


def bare_id(sender_id: str, channel: str) -> str:
    """``sender_id`` without ``channel``'s prefix (unchanged when it has none).

    Telegram's output needs the bare chat id; the journal's pseudonym is made from channel +
    bare id, so pseudonyms made before ids carried a prefix stay the same.
    """
    if channel not in PREFIXES:
        return sender_id
    prefix = PREFIXES[channel] + SEPARATOR
    if sender_id.startswith(prefix) and len(sender_id) > len(prefix):
        return sender_id[len(prefix) :]
    return sender_id
