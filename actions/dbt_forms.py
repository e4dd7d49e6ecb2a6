"""What the DBT exercise forms (boundary scripts, the wise-mind pause) share: reading the
latest turn, asking a question, and telling an answer from a re-validation or a stray button.

Each skill passes in its own text book (``bot/exercises/dbt_texts.TextBook``), so every word
still comes from that skill's content file.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.exercises.dbt_texts import TextBook
from bot.exercises.form_turns import hint_already_given, is_other_payload

REQUESTED_SLOT = "requested_slot"
# "let's continue" while the form is running is not an answer: the question is asked again.
NOT_ANSWERS = frozenset({"resume_exercise"})


def latest_intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def long_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


class AskFormSlot(Action, ABC):
    """Asks one of a form's questions (``ask.<slot>``), unless the validator has just given a
    hint for it."""

    slot: str

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def texts(self) -> TextBook: ...

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return []

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if not hint_already_given(tracker.events, self.slot):
            dispatcher.utter_message(
                text=self.texts().text(f"ask.{self.slot}"), buttons=self.buttons(tracker)
            )
        return []


def explain_question(
    dispatcher: CollectingDispatcher,
    slot: str | None,
    explained: tuple[str, ...],
    texts: Callable[[], TextBook],
) -> None:
    """Says why the question of ``slot`` is asked (``why.<slot>``); outside the ``explained``
    questions, the general answer."""
    if slot in explained:
        dispatcher.utter_message(text=texts().text(f"why.{slot}"))
    else:
        dispatcher.utter_message(response="utter_why_general")


def already_valid(tracker: Tracker, slot: str) -> bool:
    # On resume or after an edit, Rasa re-validates the slots filled before. They were
    # checked when they were answered: take them as they are, and say nothing.
    return tracker.get_slot(REQUESTED_SLOT) != slot


def other_payload(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    texts: Callable[[], TextBook],
    answer_intents: frozenset[str],
) -> bool:
    """True when the turn is not an answer: "let's continue" (the question is simply asked
    again) or a button of another intent (the user is asked to finish this first)."""
    if latest_intent(tracker) in NOT_ANSWERS:
        return True  # said nothing: the ask action repeats the question in full
    if is_other_payload(latest_text(tracker), latest_intent(tracker), answer_intents):
        dispatcher.utter_message(text=texts().text("hints.finish_this_first"))
        return True
    return False
