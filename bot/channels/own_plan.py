"""The user's own safety plan under a crisis answer (issue 18).

Once someone has made a safety plan, every crisis answer on every channel adds their own steps
2 to 4 (what they can do on their own, people and places that help, people they can ask) in one
message after the static lines, carrying the safety question's buttons again. The fail-safe (``bot.channels.failsafe``) calls this after the
static resources have gone out, so the plan never delays or replaces them: it is read from the
journal in a small pool of worker threads with a short deadline, and a journal that is slow,
down or empty adds nothing.

The plan is found by the sender id the channel itself set (``rest:``, ``web:``, ``tg:``), the
same pseudonym the journal actions use: a client cannot name another user's plan. Nothing of the
plan is logged.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot import sender_ids
from bot.safety import resources

logger = logging.getLogger(__name__)

# How long the crisis answer waits for the plan after the static lines went out. A healthy
# journal answers in milliseconds; past this the user's plan is left out, never the lines.
PLAN_DEADLINE_SECONDS = 1.5
# Reads wait here, so a hung database holds at most these threads (not Rasa's or the loop's).
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="own-plan")


def read_plan_text(sender_id: str) -> str | None:
    """Steps 2-4 of this sender's plan as one text, or None (no plan, or nothing in them)."""
    # Imported here: a channel that never meets a crisis never loads the journal or the texts.
    from bot.exercises import safety_plan
    from bot.journal import repository, session_scope

    channel = sender_ids.channel_of(sender_id)
    if channel is None:
        return None
    with session_scope() as session:
        plan = repository.safety_plan_of(session, channel, sender_id)
    return safety_plan.crisis_text(plan)


async def own_plan_message(sender_id: str) -> dict[str, Any] | None:
    """The message with the user's own steps, or None when there is none to add in time."""
    future = _pool.submit(read_plan_text, sender_id)
    try:
        text = await asyncio.wait_for(asyncio.wrap_future(future), PLAN_DEADLINE_SECONDS)
    except asyncio.TimeoutError:
        logger.warning("own safety plan not read within %.1f s; left out", PLAN_DEADLINE_SECONDS)
        return None
    except Exception as exc:  # a journal outage must not touch the crisis answer
        logger.warning("own safety plan unavailable (%s); left out", type(exc).__name__)
        return None
    if not text:
        return None
    # The safety question's two buttons again: the web widget shows buttons under the last
    # message only, and this message comes after the one that asks "Are you safe right now?".
    buttons = resources.crisis_messages(None)[0].get("buttons") or []
    return {"text": text, "buttons": [dict(b) for b in buttons]}
