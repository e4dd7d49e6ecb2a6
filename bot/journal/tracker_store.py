"""Rasa's SQL tracker store, made to honour an erasure asked for inside the conversation.

Trap this solves: when a custom action calls ``repository.delete_user`` mid-conversation, Rasa
still holds the current session in memory and saves it after the action, so the user's latest
messages (the request to erase included) come back. This store notices that one of the erase
actions ran in the turn and deletes the sender's log instead of saving it.

endpoints.yml: ``type: bot.journal.tracker_store.ErasingSQLTrackerStore`` with the usual
SQLTrackerStore keys and, optionally, ``erase_actions: [action_..., ...]``. Rasa imports this
module only in the Rasa server; the action server never does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

DEFAULT_ERASE_ACTIONS = ("action_delete_my_data",)


class ErasingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that forgets a conversation once an erase action has run in it."""

    def __init__(
        self, *args: Any, erase_actions: Iterable[str] | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(erase_actions, str):
            erase_actions = [erase_actions]
        self.erase_actions = frozenset(erase_actions or DEFAULT_ERASE_ACTIONS)

    def _erasure_requested(self, tracker: DialogueStateTracker) -> str | None:
        for event in tracker.events:
            if isinstance(event, ActionExecuted) and event.action_name in self.erase_actions:
                return event.action_name
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save as Rasa does, unless this conversation was just erased: then delete it all."""
        action = self._erasure_requested(tracker)
        if action is None:
            await super().save(tracker)
            return
        with self.session_scope() as session:
            deleted = (
                session.query(self.SQLEvent)
                .filter(self.SQLEvent.sender_id == tracker.sender_id)
                .delete(synchronize_session=False)
            )
            session.commit()
        # No sender id here: the log line must not undo what the erasure did.
        logger.info("conversation erased after %s instead of saved (%d events)", action, deleted)
