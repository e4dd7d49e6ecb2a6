"""The user's data rights in the chat: see what the bot remembers, export it, erase it.

Erasure also removes the conversation log: the tracker store (ErasingSQLTrackerStore in
endpoints.yml) deletes this sender's events after the turn in which ``action_delete_my_data``
ran, because Rasa would otherwise save the current session again right after the action.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot import sender_ids
from bot.journal import JournalError, JournalUnavailable, repository, session_scope

logger = logging.getLogger(__name__)

EXPORT_FILENAME = "secure-base-my-data.json"
# Channels that can receive a file; elsewhere the export is sent as text.
DOCUMENT_CHANNELS = frozenset({"telegram"})


def channel_of(tracker: Tracker) -> str:
    """The channel the journal's pseudonym is built from ("rest", "socketio", "telegram").

    Read from the sender id's prefix, which only the channel itself sets; never from the event's
    ``input_channel``, which a REST client could once choose (and so open a Telegram user's
    journal). An id without a known prefix gets a channel of its own that no client can reach.
    """
    return sender_ids.channel_of(tracker.sender_id) or "unknown"


T = TypeVar("T")
_UNAVAILABLE = object()


def with_journal(dispatcher: CollectingDispatcher, work: Callable[[Session], T]) -> T | object:
    """Run ``work`` in one journal session; if the journal is out of reach, tell the user and
    return ``_UNAVAILABLE`` so the action can stop there."""
    try:
        with session_scope() as session:
            return work(session)
    except JournalUnavailable:
        logger.warning("journal unavailable for this action")
        dispatcher.utter_message(response="utter_journal_unavailable")
        return _UNAVAILABLE


def _value_lines(values: list[dict[str, Any]]) -> str:
    lines = []
    for value in values:
        line = (
            f"- {value['value']}: matters {value['importance']}/10, lived {value['consistency']}/10"
        )
        if value.get("previous_consistency") is not None:
            line += f" (before: {value['previous_consistency']}/10)"
        lines.append(line)
    return "\n".join(lines)


class ActionShowJournal(Action):
    """Answers "what do you remember about me?" with a readable summary."""

    def name(self) -> str:
        return "action_show_journal"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        def read(session: Session) -> dict[str, Any] | None:
            user = repository.find_user(session, channel_of(tracker), tracker.sender_id)
            return repository.summary(session, user) if user else None

        summary = with_journal(dispatcher, read)
        if summary is _UNAVAILABLE:
            return []
        if not summary or not _has_entries(summary):
            dispatcher.utter_message(response="utter_journal_empty")
            return []
        dispatcher.utter_message(response="utter_journal_intro")
        if summary["values"]:
            dispatcher.utter_message(
                response="utter_journal_values", values=_value_lines(summary["values"])
            )
        if summary["open_actions"]:
            actions = "\n".join(f"- {a['text']}" for a in summary["open_actions"][:3])
            dispatcher.utter_message(response="utter_journal_actions", actions=actions)
        if summary["boundary_scripts"]:
            titles = "\n".join(f"- {s['title']}" for s in summary["boundary_scripts"][:3])
            dispatcher.utter_message(response="utter_journal_scripts", scripts=titles)
        practice = summary["wise_mind"]["entries"] + summary["roleplay"]["sessions"]
        if practice or summary["reflection"]:
            dispatcher.utter_message(
                response="utter_journal_practice",
                wise_mind=summary["wise_mind"]["entries"],
                roleplays=summary["roleplay"]["sessions"],
            )
        dispatcher.utter_message(response="utter_journal_rights")
        return []


def _has_entries(summary: dict[str, Any]) -> bool:
    return bool(
        summary["values"]
        or summary["open_actions"]
        or summary["done_actions"]
        or summary["boundary_scripts"]
        or summary["reflection"]
        or summary["wise_mind"]["entries"]
        or summary["roleplay"]["sessions"]
    )


class ActionExportMyData(Action):
    """Sends everything stored about this user, conversation log included, as JSON."""

    def name(self) -> str:
        return "action_export_my_data"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        channel = channel_of(tracker)
        export = with_journal(
            dispatcher, lambda session: repository.export_user(session, channel, tracker.sender_id)
        )
        if export is _UNAVAILABLE:
            return []
        content = json.dumps(export, ensure_ascii=False, indent=2, default=str)
        dispatcher.utter_message(response="utter_export_intro")
        if channel in DOCUMENT_CHANNELS:
            dispatcher.utter_message(
                json_message={"document": {"filename": EXPORT_FILENAME, "content": content}}
            )
        else:
            dispatcher.utter_message(text=content)
        return []


class ActionDeleteMyData(Action):
    """Erases the journal and the conversation log of this sender, after confirmation."""

    def name(self) -> str:
        return "action_delete_my_data"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            with session_scope() as session:
                repository.delete_user(session, channel_of(tracker), tracker.sender_id)
        except JournalUnavailable:
            logger.warning("journal unavailable: erasure not done")
            dispatcher.utter_message(response="utter_delete_failed")
            return []
        except JournalError as error:
            logger.warning("erasure refused: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_delete_failed")
            return []
        dispatcher.utter_message(response="utter_deleted")
        # The tracker store deletes this conversation's log after the turn (see module doc).
        return [AllSlotsReset(), Restarted()]
