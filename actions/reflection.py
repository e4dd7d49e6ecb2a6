"""Codependency or healthy dependency? A reflection, not a test.

Ten statements answered rarely / sometimes / often; the result is where each of the five
dimensions leans right now, in plain words, compared with the last time when there was one,
saved to the journal, and followed by an offer of the exercises that match.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import channel_of, keeping_allowed
from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot.dialogue.turns import answer_button
from bot.exercises.reflection import (
    answer_reader,
    change_lines,
    leans,
    offers,
    reflection_content,
    result_lines,
    texts,
)
from bot.journal import JournalError, JournalUnavailable, session_scope
from bot.journal import repository as journal

logger = logging.getLogger(__name__)


FORM = "dependency_reflection_form"
REFLECTION_SLOTS = ("reflection_done", "reflection_answers")


def _answers(tracker: Tracker) -> list[int]:
    raw = tracker.get_slot("reflection_answers")
    if not isinstance(raw, list):
        return []
    return [a for a in raw if isinstance(a, int) and not isinstance(a, bool)]


REFLECTION = kit.Skill(
    "reflection",
    texts,
    form=FORM,
    slots=REFLECTION_SLOTS,
    start_intent="start_dependency_reflection",
)


ActionStartDependencyReflection = kit.start_action(REFLECTION, "action_start_dependency_reflection")


class ActionAskReflectionDone(kit.AskSlot):
    """Shows the next statement with the three answer buttons."""

    skill = REFLECTION

    slot = "reflection_done"

    def question(self, tracker: Tracker) -> str:
        content = reflection_content()
        total = len(content.statements)
        index = min(len(_answers(tracker)), total - 1)
        return content.texts.text(
            "ask_statement", index=index + 1, total=total, statement=content.statements[index].text
        )

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(point.label, point.key) for point in reflection_content().scale]


class ValidateDependencyReflectionForm(kit.ExerciseValidator):
    """Keeps each answer's score; the form is done after the last statement."""

    skill = REFLECTION

    def validate_reflection_done(self, answer: kit.Answer) -> dict[str, Any]:
        content = reflection_content()
        text = answer.text
        score = answer_reader().read(text) if text else None
        if score is None:
            # Not rarely / sometimes / often: the same statement is asked again.
            answer.hint("hint_answer")
            return {"reflection_done": None}
        answers = _answers(answer.tracker) + [score]
        done = len(answers) >= len(content.statements)
        # Until the last statement, None makes the form ask again, now with the next statement.
        return {"reflection_answers": answers, "reflection_done": True if done else None}


class ActionReflectDependency(OffersNudge, kit.SkillAction):
    """Reflects the leans back, compares them with last time, saves them and offers exercises."""

    action_name = "action_reflect_dependency"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        content = reflection_content()
        texts = content.texts
        answers = _answers(tracker)
        if len(answers) != len(content.statements):
            # A broken or stale conversation: start the reflection again rather than guess.
            dispatcher.utter_message(
                text=texts.text("intro"),
                buttons=[
                    {
                        "title": texts.text("button_restart"),
                        "payload": "/start_dependency_reflection",
                    }
                ],
            )
            return []
        scores = leans(content, answers)
        dispatcher.utter_message(
            text="\n\n".join(
                [
                    texts.text("result_opening"),
                    *result_lines(content, scores),
                    texts.text("disclaimer"),
                ]
            )
        )

        keep = keeping_allowed(dispatcher, tracker)
        previous, saved = self._save(tracker, scores) if keep else (None, False)
        if previous is not None:
            moved = change_lines(content, previous, scores)
            dispatcher.utter_message(
                text="\n".join([texts.text("change_opening"), *moved])
                if moved
                else texts.text("no_change")
            )
        if saved:
            dispatcher.utter_message(text=texts.text("saved"))
        elif keep:
            dispatcher.utter_message(response="utter_journal_unavailable")

        buttons = offers(content, scores)
        offer = "offer"
        if not buttons:
            # Nothing leans away from healthy: offer to keep tending what matters (identity).
            identity = content.dimension("identity")
            buttons, offer = (
                [(identity.exercise_title, identity.exercise_payload)],
                "offer_all_healthy",
            )
        dispatcher.utter_message(
            text=texts.text(offer),
            buttons=[{"title": title, "payload": payload} for title, payload in buttons],
        )
        return []

    @staticmethod
    def _save(tracker: Tracker, scores: dict[str, float]) -> tuple[dict[str, Any] | None, bool]:
        """(the previous scores, if any; whether this run was saved)."""
        try:
            with session_scope() as session:
                user = journal.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
                earlier = journal.latest_reflections(session, user, limit=1)
                previous = dict(earlier[0].scores) if earlier else None
                journal.save_reflection(session, user, scores)
            return previous, True
        except JournalUnavailable:
            return None, False
        except JournalError as error:
            logger.warning("reflection not saved: %s", error)
            return None, False
