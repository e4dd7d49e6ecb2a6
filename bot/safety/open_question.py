"""A question the user saw from the channel's floor that the dialogue may not have recorded.

The fail-safe (``bot.channels.failsafe``) sends the static crisis resources, which end with "Are
you safe right now?", and the static check-in question ("are you thinking about suicide?")
whenever the dialogue fails, is cut short, loses its turn to a store outage, or answers a crisis
message with something else. The user then sees a question the conversation's tracker never
asked, and their typed reply would be read as an ordinary message: a "yes" to the check-in got
"Okay. Where would you like to start?" and the menu.

So the channel notes which question it left open (``bot.channels.open_questions``) and puts it
into the metadata of that user's next message under ``OPEN_QUESTION_KEY``. The policies that read
the replies (``bot.policies.safety_question``, ``bot.policies.check_in``) treat the question as
asked in the bot's last turn. Only the channel sets the key: a client's own value is removed.
"""

from __future__ import annotations

from typing import Any

OPEN_QUESTION_KEY = "secure_base_open_question"
SAFETY = "safety"  # "Are you safe right now?" (the crisis resources)
CHECK_IN = "check_in"  # "are you thinking about suicide?" (the middle band)
KINDS = frozenset({SAFETY, CHECK_IN})


def marked_question(metadata: Any) -> str | None:
    """The question the channel says is open for this message, or None."""
    if not isinstance(metadata, dict):
        return None
    kind = metadata.get(OPEN_QUESTION_KEY)
    return kind if kind in KINDS else None
