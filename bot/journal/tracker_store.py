"""Rasa's SQL tracker store, made to honour an erasure asked for inside the conversation.

Trap this solves: when a custom action calls ``repository.delete_user`` mid-conversation, Rasa
still holds the current session in memory and saves it after the action, so the user's latest
messages (the request to erase included) come back. This store notices that one of the erase
actions ran in the turn and deletes the sender's log instead of saving it.

Two more things Rasa's store gets wrong during a database outage, fixed here:

- Rasa wraps every tracker store in ``FailSafeTrackerStore``, which turns a failed load into a
  fresh conversation and a failed save into a copy in memory: users get answers that ignore what
  they said before, and those messages never reach the database. This store raises
  :class:`TrackerStoreUnavailable` instead when the database cannot be reached; it derives from
  ``BaseException`` so that wrapper (``except Exception``) lets it through, and
  ``bot.channels.failsafe`` answers "temporarily unavailable" (crisis resources still go out).
- SQLAlchemy writes bound parameters (sender ids; the user's words in a failed save) into its
  exception messages, which Rasa logs at ERROR. The engine is re-created by
  ``bot.database.make_engine`` (hidden parameters, a connect timeout, and ``pool_pre_ping``,
  so a restarted PostgreSQL does not cost the first users after it an error; on SQLite a
  write-ahead log and ``secure_delete``).

endpoints.yml: ``type: bot.journal.tracker_store.ErasingSQLTrackerStore`` with the usual
SQLTrackerStore keys and, optionally, ``erase_actions: [action_..., ...]``. Rasa imports this
module only in the Rasa server; the action server never does.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import ActionExecuted, BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import sessionmaker

from bot.database import make_engine
from bot.journal.exports import PLACEHOLDER, is_export_message

logger = logging.getLogger(__name__)

DEFAULT_ERASE_ACTIONS = ("action_delete_my_data",)

T = TypeVar("T")


# A picture drawn for one reply (the progress pictures: ``data:`` URLs) is sent once and never
# kept: the log keeps the summary line and this note instead of the image and its description.
PICTURE_PLACEHOLDER = {"picture": {"kept": False, "note": "a picture was sent; it is not kept"}}


def is_picture_message(data: Any) -> bool:
    """True for a bot message's data that carries an inline (``data:``) image."""
    if not isinstance(data, dict):
        return False
    return any(
        isinstance(data.get(key), str) and data[key].startswith("data:")
        for key in ("image", "attachment")
    )


def without_picture(event: BotUttered) -> BotUttered:
    """``event`` as the log keeps it: its text, no image, no description of it."""
    data = {key: value for key, value in event.data.items() if key not in ("image", "attachment")}
    data["custom"] = PICTURE_PLACEHOLDER
    metadata = {key: value for key, value in (event.metadata or {}).items() if key != "alt"}
    return BotUttered(text=event.text, data=data, metadata=metadata, timestamp=event.timestamp)


class TrackerStoreUnavailable(BaseException):
    """The database behind the tracker store cannot be reached right now.

    A ``BaseException`` on purpose: Rasa's ``FailSafeTrackerStore`` catches ``Exception`` and
    would carry on with a fresh, unsaved conversation. ``bot.channels.failsafe`` catches this.
    """


def is_outage(error: BaseException) -> bool:
    """True for errors that mean "cannot reach the database", not "bad data or bad SQL"."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError
    )


async def _guarded(operation: Callable[[], Awaitable[T]], what: str) -> T:
    try:
        return await operation()
    except sa_exc.SQLAlchemyError as error:
        if not is_outage(error):
            raise
        # The class name only: the message may hold SQL and, on old engines, parameters.
        logger.warning("tracker store unavailable during %s (%s)", what, type(error).__name__)
        raise TrackerStoreUnavailable(what) from None


class ErasingSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that forgets a conversation once an erase action has run in it."""

    def __init__(
        self, *args: Any, erase_actions: Iterable[str] | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._rebuild_engine()
        if isinstance(erase_actions, str):
            erase_actions = [erase_actions]
        self.erase_actions = frozenset(erase_actions or DEFAULT_ERASE_ACTIONS)

    def _rebuild_engine(self) -> None:
        url = self.engine.url
        self.engine.dispose()
        # Rasa's pool sizes on the project's engine. A write-ahead log: a commit appends to the
        # log and syncs it at checkpoints, instead of syncing the database file each turn.
        # Rasa's session code predates SQLAlchemy's 2.0-style engine (``future``).
        self.engine = make_engine(url, wal=True, future=False, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _checkpoint(self) -> None:
        # The action already scrubbed the journal's copy; this covers events deleted here.
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        if row is None or row[0] != 0:
            logger.warning("checkpoint after erasing a conversation did not complete")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        parent = super()
        return await _guarded(lambda: parent.retrieve(sender_id), "retrieve")

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        parent = super()
        return await _guarded(lambda: parent.retrieve_full_tracker(sender_id), "retrieve")

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The events to store, with every export body replaced by a short placeholder.

        The channel has already delivered the export when Rasa saves the turn; only the copy
        in the log is replaced (see ``bot.journal.exports``).
        """
        for event in super()._additional_events(session, tracker):
            if isinstance(event, BotUttered) and is_export_message(event.data.get("custom")):
                yield BotUttered(
                    text=None,
                    data={"custom": PLACEHOLDER},
                    metadata=event.metadata,
                    timestamp=event.timestamp,
                )
            elif isinstance(event, BotUttered) and is_picture_message(event.data):
                yield without_picture(event)
            else:
                yield event

    def _erasure_requested(self, tracker: DialogueStateTracker) -> str | None:
        for event in tracker.events:
            if isinstance(event, ActionExecuted) and event.action_name in self.erase_actions:
                return event.action_name
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save as Rasa does, unless this conversation was just erased: then delete it all."""
        await _guarded(lambda: self._save(tracker), "save")

    async def _save(self, tracker: DialogueStateTracker) -> None:
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
        if self.engine.dialect.name == "sqlite":
            self._checkpoint()
        # No sender id here: the log line must not undo what the erasure did.
        logger.info("conversation erased after %s instead of saved (%d events)", action, deleted)
