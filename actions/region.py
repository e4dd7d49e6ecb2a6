"""Keeps the user's region in the journal too, so it travels with their exported data.

The slot itself is filled by Rasa from the button (domain/region.yml); this action only records
it, quietly: a journal that cannot be reached must not get in the way of a safety setting.
"""

from __future__ import annotations

import logging

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import channel_of
from bot import dialogue as kit
from bot.journal import JournalError, repository, session_scope

logger = logging.getLogger(__name__)


class ActionSaveRegion(kit.SkillAction):
    action_name = "action_save_region"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        region = tracker.get_slot("region")
        if not region:
            return []
        try:
            with session_scope() as session:
                # Kept only with the user's yes; the slot still serves this conversation.
                user = repository.find_user(session, channel_of(tracker), tracker.sender_id)
                if user is None or user.journal_consent is not True:
                    return []
                repository.set_region(session, user, region)
        except JournalError as error:
            logger.warning("region not saved to the journal (%s)", type(error).__name__)
        return []
