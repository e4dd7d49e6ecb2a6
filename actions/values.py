"""The ACT values exercise and "what are my values?".

One form (``values_form``) on the kit (:mod:`bot.dialogue`) walks through the steps; the logic
lives in ``bot.exercises.values`` and the words in ``data/values``. This module only asks,
validates and saves; ``saved_values`` is also read by the voice check.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import channel_of, keeping_allowed
from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot.dialogue.echo import echo
from bot.dialogue.turns import answer_button, latest_intent
from bot.exercises.values import (
    TOP_COUNT,
    Rating,
    TypedValues,
    ValuesContent,
    check_committed_action,
    focus_rating,
    gap_band,
    ratings_from_slot,
    texts,
    value_matcher,
    values_content,
)
from bot.journal import JournalError, JournalUnavailable, ValueRatingIn, session_scope
from bot.journal import repository as journal

logger = logging.getLogger(__name__)


FORM = "values_form"
# Everything the exercise keeps; cleared when it starts again, so starting again starts fresh.
VALUES_SLOTS = (
    "value_area",
    "values_done",
    "top_values_done",
    "importance",
    "consistency",
    "committed_action",
    "value_picks",
    "values_page",
    "values_last_added",
    "top_values",
    "value_ratings",
    "committed_action_reasked",
)
# After these the picking question shows its page in full again, not the short reminder.
_FULL_PAGE_AFTER = frozenset({"resume_exercise", "ask_why", "start_values_exercise"})


def saved_values(tracker: Tracker) -> list[journal.ValueView] | None:
    """The user's latest value ratings from the journal ([] for none, None if unreachable)."""
    try:
        with session_scope() as session:
            user = journal.find_user(session, channel_of(tracker), tracker.sender_id)
            return journal.latest_values(session, user) if user else []
    except JournalUnavailable:
        return None


def _joined(names: Iterable[str]) -> str:
    return ", ".join(names)


# --- the values form ---------------------------------------------------------------------


def _picks(tracker: Tracker) -> list[str]:
    picks = tracker.get_slot("value_picks")
    return [item for item in picks if isinstance(item, str)] if isinstance(picks, list) else []


def _top(tracker: Tracker) -> list[str]:
    top = tracker.get_slot("top_values")
    return [item for item in top if isinstance(item, str)] if isinstance(top, list) else []


def _page(tracker: Tracker) -> int:
    page = tracker.get_slot("values_page")
    return int(page) if isinstance(page, int | float) and not isinstance(page, bool) else 0


def _current_value(tracker: Tracker) -> str | None:
    """The value being rated: the first of the top three without a rating yet."""
    top, rated = _top(tracker), ratings_from_slot(tracker.get_slot("value_ratings"))
    return top[len(rated)] if len(rated) < len(top) else None


VALUES = kit.Skill(
    "values", texts, form=FORM, slots=VALUES_SLOTS, start_intent="start_values_exercise"
)


ActionStartValuesExercise = kit.start_action(VALUES, "action_start_values_exercise")


class ActionAskValueArea(kit.AskSlot, skill=VALUES):
    slot = "value_area"
    question_key = "ask_area"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(area.label, area.key) for area in values_content().areas]


def _on_page(tracker: Tracker) -> list[Any]:
    """The values of the current page that are not picked yet."""
    picks = _picks(tracker)
    return [value for value in values_content().page(_page(tracker)) if value.key not in picks]


class ActionAskValuesDone(kit.AskSlot, skill=VALUES):
    """Shows a page of value words as buttons (with their meanings), plus More and Done."""

    slot = "values_done"

    def question(self, tracker: Tracker) -> str:
        content = values_content()
        texts = content.texts
        picks = _picks(tracker)
        page_index = _page(tracker)
        on_page = _on_page(tracker)
        picked_names = _joined(content.name(item) for item in picks)
        # Right after a pick the meanings were just shown: a short reminder is kinder on a phone.
        just_picked = bool(tracker.get_slot("values_last_added"))
        if just_picked and latest_intent(tracker) not in _FULL_PAGE_AFTER:
            lines = [texts.text("page_short", picked=picked_names)]
        else:
            lines = [
                texts.text(
                    "page_intro",
                    page=page_index % content.page_count() + 1,
                    pages=content.page_count(),
                )
            ]
            lines += [texts.text("page_line", label=v.label, meaning=v.meaning) for v in on_page]
            if picks:
                lines.append(texts.text("page_picked", picked=picked_names))
        if not on_page:
            lines.append(texts.text("page_all_picked"))
        return "\n".join(lines)

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        texts = self.texts()
        buttons = [answer_button(value.label, value.key) for value in _on_page(tracker)]
        buttons.append(answer_button(texts.text("button_more"), "more"))
        buttons.append(answer_button(texts.text("button_done"), "done"))
        return buttons


class ActionAskTopValuesDone(kit.AskSlot, skill=VALUES):
    """Asks for the three values that matter most, as buttons of the ones picked."""

    slot = "top_values_done"

    def question(self, tracker: Tracker) -> str:
        content = values_content()
        picks, top = _picks(tracker), _top(tracker)
        if top:
            return content.texts.text(
                "ask_top_progress",
                chosen=_joined(content.name(item) for item in top),
                left=TOP_COUNT - len(top),
            )
        return content.texts.text(
            "ask_top", count=len(picks), picked=_joined(content.name(i) for i in picks)
        )

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        content, top = values_content(), _top(tracker)
        return [answer_button(content.label(i), i) for i in _picks(tracker) if i not in top]


class ActionAskImportance(kit.AskSlot, skill=VALUES):
    slot = "importance"

    def question(self, tracker: Tracker) -> str:
        content = values_content()
        item = _current_value(tracker) or ""
        known = content.value(item)
        index = len(ratings_from_slot(tracker.get_slot("value_ratings"))) + 1
        fields = {"value": content.name(item), "index": index, "total": len(_top(tracker))}
        if known:
            return content.texts.text("ask_importance_known", meaning=known.meaning, **fields)
        return content.texts.text("ask_importance_own", **fields)


class ActionAskConsistency(kit.AskSlot, skill=VALUES):
    slot = "consistency"

    def question(self, tracker: Tracker) -> str:
        content = values_content()
        return content.texts.text(
            "ask_consistency", value=content.name(_current_value(tracker) or "")
        )


def _example_action(content: ValuesContent, item: str) -> str:
    known = content.value(item)
    return (
        known.example if known and known.example else content.texts.text("example_action_generic")
    )


class ActionAskCommittedAction(kit.AskSlot, skill=VALUES):
    """Asks for one small step towards the value with the biggest gap."""

    slot = "committed_action"

    def question(self, tracker: Tracker) -> str:
        content = values_content()
        ratings = ratings_from_slot(tracker.get_slot("value_ratings"))
        if not ratings:
            return content.texts.text("ask_action_single", value="it")
        focus = focus_rating(ratings)
        if len(ratings) == 1:
            key = "ask_action_single"
        elif focus.gap <= 0:
            key = "ask_action_no_gap"
        else:
            key = "ask_action"
        return content.texts.text(key, value=content.name(focus.value))


class ValidateValuesForm(kit.ExerciseValidator):
    """Reads each answer of the values form; returning a slot as None asks its question again."""

    skill = VALUES

    def validate_value_area(self, answer: kit.Answer) -> dict[str, Any]:
        content = values_content()
        text = answer.text
        if text is not None and content.area(text):  # a button
            return {"value_area": text}
        found = value_matcher().areas(text) if text else []
        if len(found) == 1:
            return {"value_area": found[0]}
        if len(found) > 1:
            names = _joined(content.area(key).label for key in found)
            buttons = [answer_button(content.area(key).label, key) for key in found]
            answer.hint("hint_area_ambiguous", buttons=buttons, areas=names)
        else:
            answer.hint("hint_area")
        # Not an area (or more than one): ask again.
        return {"value_area": None}

    def validate_values_done(self, answer: kit.Answer) -> dict[str, Any]:
        content = values_content()
        texts = content.texts
        text = answer.text
        picks = _picks(answer.tracker)
        page = _page(answer.tracker)
        if text is None:
            reading = TypedValues()
        elif content.is_known(text):  # a value button sends the catalogue key
            reading = TypedValues(known=(text,))
        else:
            reading = value_matcher().read(text)

        added = [item for item in reading.picks if item not in picks]
        repeated = [item for item in reading.picks if item in picks]
        picks = picks + added
        # What a sentence said besides its values ("not pretending I'm fine") is said back.
        sense = echo(reading.too_long[0]) if reading.too_long else ""
        if added:
            names = _joined(content.name(i) for i in added)
            if sense:
                answer.say(texts.text("added_sense", values=names, sense=sense))
            else:
                answer.say(texts.text("added", values=names))
            for word in reading.own:
                if word in added:
                    answer.say(texts.text("added_own", word=word))
        elif repeated and reading.command is None:
            answer.say(
                texts.text("already_picked", values=_joined(content.name(i) for i in repeated))
            )
        elif sense and reading.command is None:
            self._suggest(text or "", sense, picks, answer)

        if reading.command == "done":
            if picks:
                return self._finish_picking(picks, answer)
            answer.hint("hint_pick_first")
        elif reading.command == "more":
            page += 1
        elif not (added or repeated or sense):
            answer.hint("hint_values")
        # Still picking: the same question comes back (next page after "more").
        return {
            "value_picks": picks,
            "values_last_added": added,
            "values_page": page,
            "values_done": None,
        }

    @staticmethod
    def _suggest(text: str, sense: str, picks: list[str], answer: kit.Answer) -> None:
        """A sentence that names no value: the nearest values as buttons, in one short hint."""
        content = values_content()
        near = [key for key in value_matcher().suggest(text) if key not in picks]
        if not near:
            answer.hint("hint_own_too_long")
            return
        buttons = [answer_button(content.label(key), key) for key in near]
        buttons.append(answer_button(content.texts.text("button_done"), "done"))
        answer.hint("hint_sentence", buttons=buttons, sense=sense)

    @staticmethod
    def _finish_picking(picks: list[str], answer: kit.Answer) -> dict[str, Any]:
        slots: dict[str, Any] = {"value_picks": picks, "values_last_added": [], "values_done": True}
        if len(picks) <= TOP_COUNT:
            # Three or fewer: they are the top values already, so that question is skipped.
            content = values_content()
            if len(picks) > 1:
                answer.say(
                    content.texts.text(
                        "top_from_picks", values=_joined(content.name(i) for i in picks)
                    )
                )
            slots.update({"top_values": picks, "top_values_done": True, "value_ratings": []})
        return slots

    def validate_top_values_done(self, answer: kit.Answer) -> dict[str, Any]:
        content = values_content()
        picks, top = _picks(answer.tracker), _top(answer.tracker)
        text = answer.text
        if text is None:
            chosen: tuple[str, ...] = ()
        elif text in picks:  # a button sends the pick itself
            chosen = (text,)
        else:
            chosen = value_matcher().read_among(text, picks)
        top = top + [item for item in chosen if item not in top]
        said_done = text is not None and value_matcher().command(text) == "done"
        if len(top) >= TOP_COUNT or (said_done and top):
            return {"top_values": top[:TOP_COUNT], "top_values_done": True, "value_ratings": []}
        if not chosen:
            picked = _joined(content.name(i) for i in picks)
            answer.hint("hint_top", picked=picked)
        # Fewer than three chosen so far: ask for the next one.
        return {"top_values": top, "top_values_done": None}

    def validate_importance(self, answer: kit.Answer) -> dict[str, Any]:
        # None (not a whole number from 0 to 10) asks again, after the hint.
        return {"importance": answer.rating()}

    def validate_consistency(self, answer: kit.Answer) -> dict[str, Any]:
        consistency = answer.rating()
        importance = answer.slot_value("importance")
        item = _current_value(answer.tracker)
        if consistency is None or not isinstance(importance, int) or item is None:
            return {"consistency": None}
        content = values_content()
        rating = Rating(item, importance, consistency)
        name = content.name(item)
        answer.say(
            content.texts.text(
                f"gap_{gap_band(rating.gap)}", value=name, value_cap=name[:1].upper() + name[1:]
            )
        )
        ratings = ratings_from_slot(answer.slot_value("value_ratings")) + [rating]
        slots: dict[str, Any] = {"value_ratings": [r.as_slot() for r in ratings]}
        if len(ratings) < len(_top(answer.tracker)):
            # The next value: clearing both ratings makes the form ask them again.
            slots.update({"importance": None, "consistency": None})
        else:
            slots["consistency"] = consistency
        return slots

    def validate_committed_action(self, answer: kit.Answer) -> dict[str, Any]:
        content = values_content()
        text = answer.text
        verdict = check_committed_action(text) if text else "short"
        if verdict == "long":
            answer.hint("hint_action_long")
            return {"committed_action": None}
        if verdict == "short" and not answer.slot_value("committed_action_reasked"):
            ratings = ratings_from_slot(answer.slot_value("value_ratings"))
            focus = focus_rating(ratings).value if ratings else ""
            example = _example_action(content, focus)
            answer.hint("hint_action_short", example=example)
            # One friendly re-ask with an example; the next answer is taken as it is.
            return {"committed_action": None, "committed_action_reasked": True}
        if not text:
            return {"committed_action": None}
        return {"committed_action": " ".join(text.split())}


def _offer_start(dispatcher: CollectingDispatcher) -> None:
    """No values to show: say so, with a button that starts the exercise."""
    texts = values_content().texts
    dispatcher.utter_message(
        text=texts.text("show_none"),
        buttons=[{"title": texts.text("button_start"), "payload": "/start_values_exercise"}],
    )


class ActionSaveValuesExercise(OffersNudge, kit.SkillAction):
    """Sums up the exercise, saves the ratings and the committed action to the journal."""

    action_name = "action_save_values_exercise"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        content = values_content()
        texts = content.texts
        ratings = ratings_from_slot(tracker.get_slot("value_ratings"))
        area_key = tracker.get_slot("value_area") or "all"
        area = content.area(area_key)
        step = tracker.get_slot("committed_action")
        if not ratings:
            # Nothing to sum up (a stale or broken conversation): offer a fresh start.
            _offer_start(dispatcher)
            return []
        focus = focus_rating(ratings)
        lines = [texts.text("summary_header", area=area.label if area else area_key)]
        lines += [
            texts.text(
                "summary_line",
                value=content.name(r.value),
                importance=r.importance,
                consistency=r.consistency,
            )
            for r in ratings
        ]
        if step:
            lines.append(texts.text("summary_action", value=content.name(focus.value), action=step))
        dispatcher.utter_message(text="\n".join(lines))

        if not keeping_allowed(dispatcher, tracker):
            pass  # keeping_allowed told the user nothing was kept
        elif self._save(tracker, area_key, ratings, step, focus):
            dispatcher.utter_message(text=texts.text("summary_saved"))
        else:
            dispatcher.utter_message(response="utter_journal_unavailable")
        dispatcher.utter_message(text=texts.text("summary_closing"))
        return []

    @staticmethod
    def _save(
        tracker: Tracker, area_key: str, ratings: list[Rating], step: str | None, focus: Rating
    ) -> bool:
        content = values_content()
        try:
            with session_scope() as session:
                user = journal.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
                journal.save_value_ratings(
                    session,
                    user,
                    area_key,
                    [
                        ValueRatingIn(
                            value=content.label(r.value),
                            importance=r.importance,
                            consistency=r.consistency,
                            own_word=not content.is_known(r.value),
                        )
                        for r in ratings
                    ],
                )
                if step:
                    journal.add_committed_action(
                        session, user, step, value=content.label(focus.value)
                    )
            return True
        except JournalUnavailable:
            return False
        except JournalError as error:
            # Our own checks should make this impossible; the message names a field, not text.
            logger.warning("values exercise not saved: %s", error)
            return False


class ActionShowValues(kit.SkillAction):
    """ "What are my values?": the saved values with how their ratings changed, and open steps."""

    action_name = "action_show_values"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        content = values_content()
        texts = content.texts
        try:
            with session_scope() as session:
                user = journal.find_user(session, channel_of(tracker), tracker.sender_id)
                views = journal.latest_values(session, user) if user else []
                steps = (
                    journal.list_committed_actions(session, user, include_done=False)
                    if user
                    else []
                )
        except JournalUnavailable:
            dispatcher.utter_message(response="utter_journal_unavailable")
            return []
        if not views:
            _offer_start(dispatcher)
            return []
        lines = [texts.text("show_header")]
        current_area = None
        for view in views:
            if view.life_area != current_area:
                current_area = view.life_area
                area = content.area(view.life_area)
                lines.append(texts.text("show_area", area=area.label if area else view.life_area))
            fields = {
                "value": view.value,
                "importance": view.importance,
                "consistency": view.consistency,
            }
            if view.previous_importance is None:
                lines.append(texts.text("show_line_first", **fields))
            else:
                lines.append(
                    texts.text(
                        "show_line_change",
                        previous_importance=view.previous_importance,
                        previous_consistency=view.previous_consistency,
                        **fields,
                    )
                )
        dispatcher.utter_message(text="\n".join(lines))
        if steps:
            step_lines = [texts.text("show_actions")]
            for step in steps[:5]:
                if step.value:
                    step_lines.append(
                        texts.text("show_action_line_value", text=step.text, value=step.value)
                    )
                else:
                    step_lines.append(texts.text("show_action_line", text=step.text))
            dispatcher.utter_message(text="\n".join(step_lines))
        dispatcher.utter_message(
            text=texts.text("show_closing"),
            buttons=[{"title": texts.text("button_again"), "payload": "/start_values_exercise"}],
        )
        return []
