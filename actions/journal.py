"""The user's data rights in the chat: see what the bot remembers, export it, erase it.

Erasure also removes the conversation log: the tracker store (ErasingSQLTrackerStore in
endpoints.yml) deletes this sender's events after the turn in which ``action_delete_my_data``
ran, because Rasa would otherwise save the current session again right after the action. The
reply says "erased" only once the deleted content is gone from the database files too
(``db.scrub_deleted``).

An export reaches each channel in its own form (``bot.journal.exports``): Telegram gets a file,
REST the JSON object, the web page a one-time download link served by ``bot.web``. The body
is never kept in the conversation log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import AllSlotsReset, EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot import sender_ids
from bot.journal import JournalError, JournalUnavailable, db, repository, session_scope
from bot.journal.exports import EXPORT_FILENAME, EXPORT_KEY, render

logger = logging.getLogger(__name__)

# Channels that can receive a file, and those whose page downloads through a one-time link.
DOCUMENT_CHANNELS = frozenset({"telegram"})
LINK_CHANNELS = frozenset({"socketio"})
# Where bot.web serves the links; relative, so it resolves against the page's own origin.
EXPORT_LINK_PATH = "/export/"


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


def keeping_allowed(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Whether this user agreed that their answers are kept; says so kindly when not.

    Never asked: the answer is not kept and the consent question is offered. Declined: a short
    note, no question (they have answered). The repository refuses writes without consent as
    well; this check is what lets the exercise tell the user the truth instead of an error.
    """
    try:
        with session_scope() as session:
            consent = repository.consent_of(session, channel_of(tracker), tracker.sender_id)
    except JournalUnavailable:
        return True  # the save itself will meet the outage and say "I can't reach my notebook"
    if consent is True:
        return True
    if consent is None:
        dispatcher.utter_message(response="utter_journal_not_kept_ask")
    else:
        dispatcher.utter_message(response="utter_journal_not_kept")
    return False


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


class ActionAskJournalConsent(OffersNudge, kit.SkillAction):
    """Asks, once, whether answers may be kept; silent when the user has already answered."""

    action_name = "action_ask_journal_consent"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        try:
            with session_scope() as session:
                consent = repository.consent_of(session, channel_of(tracker), tracker.sender_id)
        except JournalUnavailable:
            return []  # nothing can be kept right now either; ask another time
        if consent is None:
            dispatcher.utter_message(response="utter_ask_journal_consent")
        return []


class ActionSetJournalConsent(kit.SkillAction):
    """Records "keep my answers" or "stop keeping my answers", whenever the user says it."""

    action_name = "action_set_journal_consent"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        # The intent the rule fired on (the ranking helper returns None for an unranked message).
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        agreed = intent == "keep_my_answers"

        def record(session: Session) -> bool:
            user = repository.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
            repository.set_consent(session, user, agreed)
            return True

        if with_journal(dispatcher, record) is _UNAVAILABLE:
            return []
        dispatcher.utter_message(
            response="utter_consent_given" if agreed else "utter_consent_declined"
        )
        return []


class ActionShowJournal(kit.SkillAction):
    """Answers "what do you remember about me?" with a readable summary."""

    action_name = "action_show_journal"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
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
        if summary["safety_plan"]:
            dispatcher.utter_message(
                response="utter_journal_safety_plan", steps=summary["safety_plan"]["steps_filled"]
            )
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
        or summary["safety_plan"]
    )


class ActionExportMyData(kit.SkillAction):
    """Sends everything stored about this user, conversation log included, as JSON."""

    action_name = "action_export_my_data"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        channel = channel_of(tracker)
        export = with_journal(
            dispatcher, lambda session: repository.export_user(session, channel, tracker.sender_id)
        )
        if export is _UNAVAILABLE:
            return []
        if channel in LINK_CHANNELS:
            return self._send_link(dispatcher, tracker, channel, export)
        dispatcher.utter_message(response="utter_export_intro")
        if channel in DOCUMENT_CHANNELS:
            content = render(export)
            dispatcher.utter_message(
                json_message={"document": {"filename": EXPORT_FILENAME, "content": content}}
            )
        else:
            dispatcher.utter_message(
                json_message={EXPORT_KEY: {"filename": EXPORT_FILENAME, "content": export}}
            )
        return []

    @staticmethod
    def _send_link(
        dispatcher: CollectingDispatcher, tracker: Tracker, channel: str, export: Any
    ) -> list[EventType]:
        content = render(export)
        token = with_journal(
            dispatcher,
            lambda session: repository.create_pending_export(
                session, channel, tracker.sender_id, EXPORT_FILENAME, content
            ),
        )
        if token is _UNAVAILABLE:
            return []
        minutes = int(repository.EXPORT_LINK_LIFETIME.total_seconds() // 60)
        dispatcher.utter_message(
            response="utter_export_link", link=f"{EXPORT_LINK_PATH}{token}", minutes=minutes
        )
        return []


class ActionDeleteMyData(kit.SkillAction):
    """Erases the journal and the conversation log of this sender, after confirmation."""

    action_name = "action_delete_my_data"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        try:
            with session_scope() as session:
                repository.delete_user(session, channel_of(tracker), tracker.sender_id)
            scrubbed = db.scrub_deleted()
        except JournalUnavailable:
            logger.warning("journal unavailable: erasure not done")
            dispatcher.utter_message(response="utter_delete_failed")
            return []
        except JournalError as error:
            logger.warning("erasure refused: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_delete_failed")
            return []
        # Rows are gone either way; "erased" is said only when no copy is readable on disk.
        dispatcher.utter_message(
            response="utter_deleted" if scrubbed else "utter_delete_unfinished"
        )
        # The tracker store deletes this conversation's log after the turn (see module doc).
        return [AllSlotsReset(), Restarted()]
