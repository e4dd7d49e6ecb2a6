"""Show my progress (issue 19): a picture per skill, drawn from the journal at each request.

Orchestration only: the series are built in bot/progress/history.py, drawn in charts.py and
worded in pictures.py (words in data/progress/texts.yml). Only this sender's rows are read (the
sender id the channel set, as every journal action does), and nothing is kept: each picture goes
out once as a ``data:`` URL beside its summary, with its alt text; the tracker store keeps a
placeholder instead of the image (``bot.journal.tracker_store``), so "delete my data" leaves
no picture anywhere.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.journal import _UNAVAILABLE, channel_of, with_journal
from bot import dialogue as kit
from bot.dialogue.turns import payload
from bot.journal import repository
from bot.progress import history, pictures

logger = logging.getLogger(__name__)

PROGRESS = kit.Skill("progress", pictures.texts)
# The exercises offered when there is nothing to draw yet: (button key, intent).
STARTERS = (
    ("values", "start_values_exercise"),
    ("wise_mind", "start_wise_mind"),
    ("roleplay", "start_roleplay"),
)
# The key under which a picture's description travels with its ``image`` (every channel reads
# it: bot/channels; the web page puts it on the <img>).
ALT_KEY = "alt"


def read_history(session: Session, channel: str, sender_id: str) -> pictures.History:
    """This sender's values, pauses and role-play replies, as the pictures need them."""
    user = repository.find_user(session, channel, sender_id)
    if user is None:
        return pictures.History()
    values = history.value_series(repository.value_rating_history(session, user))
    pauses = history.pauses(
        (entry.created_at, entry.distress_before, entry.distress_after)
        for entry in repository.list_wise_mind_entries(session, user)
    )
    weeks = history.roleplay_weeks(
        (record.created_at, reply.label)
        for record in repository.list_roleplay_sessions(session, user)
        for reply in record.replies
    )
    return pictures.History(values, pauses, weeks)


class ActionShowProgress(kit.SkillAction):
    """Sends each skill's picture with its one-line summary and alt text, or a kind sentence."""

    skill = PROGRESS
    action_name = "action_show_progress"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        channel = channel_of(tracker)
        found = with_journal(
            dispatcher, lambda session: read_history(session, channel, tracker.sender_id)
        )
        if found is _UNAVAILABLE:
            return []
        texts = self.texts()
        items = pictures.progress_items(found, texts)
        if found.is_empty():
            buttons = [texts.button(key, payload(intent)) for key, intent in STARTERS]
            dispatcher.utter_message(text=items[0], buttons=buttons)
            return []
        dispatcher.utter_message(text=texts.text("intro"))
        drawn = 0
        for item in items:
            if isinstance(item, pictures.Picture):
                dispatcher.utter_message(text=item.summary, image=item.data_url, alt=item.alt)
                drawn += 1
            else:
                dispatcher.utter_message(text=item)
        logger.info("progress shown: %d picture(s), %d sentence(s)", drawn, len(items) - drawn)
        return []
