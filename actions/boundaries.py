"""Boundary scripts with DEAR MAN: the form's questions and checks, the script, edits, the journal.

Orchestration only: reading answers and assembling the script is in bot/exercises/scripts.py,
every word the bot says is in data/boundaries/, storage is bot/journal.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.journal import channel_of, keeping_allowed
from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot.dialogue.texts import BUTTON_TITLE_MAX, shorten
from bot.dialogue.turns import PAUSED_SLOT, latest_text, payload
from bot.exercises import scripts as sc
from bot.journal import JournalError, JournalNotFound, JournalUnavailable, session_scope
from bot.journal import repository as journal

logger = logging.getLogger(__name__)


FORM = "boundary_form"
TITLE_FORM = "boundary_title_form"
PART_SLOTS = tuple(sc.SLOT_OF_PART[part] for part in sc.EDITABLE)
RESET_SLOTS = (*PART_SLOTS, "bs_title", "bs_script_id")
READY_SLOT = "bs_ready"
# The Skip button of the optional part answers with /deny; other "/payloads" are not answers.
ANSWER_INTENTS = frozenset({"affirm", "deny"})
SKIPPED_PART = sc.SKIPPED_PART
LIST_LIMIT = 5


def _parts(tracker: Tracker) -> dict[str, str | None]:
    return {part: tracker.get_slot(sc.SLOT_OF_PART[part]) for part in sc.PARTS}


def _fits(title: str, template_key: str) -> str:
    """Shortens ``title`` so that the button built from ``template_key`` fits on a phone."""
    room = BUTTON_TITLE_MAX - len(sc.texts().text(template_key, **{_field(template_key): ""}))
    return shorten(title, max(room, 4))


def _field(template_key: str) -> str:
    return "title" if template_key == "buttons.practise_titled" else "suggestion"


def practise_payload(script_id: int) -> str:
    """The payload of a "Practise" button: the role-play skill takes over from this intent."""
    return payload("practise_script", script_id=str(script_id))


def _priority_buttons() -> list[dict[str, str]]:
    texts = sc.texts()
    return [texts.button(p, texts.text(f"priority_payloads.{p}")) for p in sc.PRIORITIES]


def _skip_button() -> list[dict[str, str]]:
    return [sc.texts().button("skip_reinforce", "/deny")]


BOUNDARIES = kit.Skill(
    "boundaries", sc.texts, form=FORM, slots=RESET_SLOTS, start_intent="start_boundary_script"
)


class ActionStartBoundaryScript(kit.StartExercise):
    """Starts a fresh script: clears the parts of any earlier or paused one."""

    skill = BOUNDARIES
    intro_key = None
    action_name = "action_start_boundary_script"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        events = super().act(dispatcher, tracker) + [SlotSet(READY_SLOT, False)]
        if tracker.get_slot(PAUSED_SLOT) == TITLE_FORM:
            events.append(SlotSet(PAUSED_SLOT, None))
        return events


# --- the form's questions -------------------------------------------------------------------


ActionAskBsDescribe, ActionAskBsExpress, ActionAskBsAssert = kit.ask_actions(
    BOUNDARIES, "bs_describe", "bs_express", "bs_assert"
)


class _AskBoundary(kit.AskSlot):
    """Asks one question of the script, unless the validator has just given a hint for it."""

    skill = BOUNDARIES


class ActionAskBsReinforce(_AskBoundary):
    slot = "bs_reinforce"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return _skip_button()


class ActionAskBsPriority(_AskBoundary):
    slot = "bs_priority"

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return _priority_buttons()


def _title_suggestion(tracker: Tracker) -> str:
    """The saved title when updating a script, else a few words of the situation."""
    script_id = tracker.get_slot("bs_script_id")
    if script_id:
        try:
            with session_scope() as session:
                user = journal.find_user(session, channel_of(tracker), tracker.sender_id)
                script = (
                    journal.get_boundary_script(session, user, int(script_id)) if user else None
                )
                if script is not None:
                    return script.title
        except (JournalError, ValueError) as error:
            logger.warning("boundaries: saved title unknown (%s)", type(error).__name__)
    texts = sc.texts()
    return sc.suggest_title(
        tracker.get_slot("bs_describe"), sc.phrasing(), texts.text("save.title_fallback")
    )


def _suggestion_button(suggestion: str) -> dict[str, str]:
    fitted = _fits(suggestion, "buttons.use_suggestion")
    return sc.texts().button("use_suggestion", suggestion, suggestion=fitted)


class ActionAskBsTitle(_AskBoundary):
    """Asks for a title, offering one taken from the situation (or the saved title)."""

    slot = "bs_title"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        suggestion = _title_suggestion(tracker)
        dispatcher.utter_message(
            text=self.texts().text("ask.bs_title", suggestion=suggestion),
            buttons=[_suggestion_button(suggestion)],
        )
        return []

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [_suggestion_button(_title_suggestion(tracker))]


# --- validation ------------------------------------------------------------------------------


class _ValidateBoundary(kit.ExerciseValidator):
    skill = BOUNDARIES
    # The Skip button of the optional part answers with /deny; other "/payloads" are not answers.
    answer_intents = ANSWER_INTENTS


class ValidateBoundaryForm(_ValidateBoundary):
    """Checks each part; a bad answer gets a hint with an example and is asked again."""

    @staticmethod
    def _part(part: str, answer: kit.Answer) -> dict[str, Any]:
        slot = sc.SLOT_OF_PART[part]
        if part == "reinforce" and answer.intent == "deny":
            return {slot: ""}  # the Skip button (or a plain "no"): Reinforce is optional
        typed = answer.latest
        problem = sc.answer_problem(part, typed, sc.phrasing())
        if problem == "skip":
            return {slot: ""}
        if problem is None:
            return {slot: " ".join(typed.split())}
        # Empty, one word, "idk", "what do you mean?" or too long: never a dead end, always a
        # hint with another example, and the same question stays open.
        if problem == "too_long":
            answer.hint("hints.too_long", limit=sc.phrasing().part_max_chars)
        else:
            example = sc.texts().text(f"more_examples.{slot}")
            answer.hint(f"hints.{problem}", example=example)
        return {slot: None}

    def validate_bs_describe(self, answer: kit.Answer) -> dict[str, Any]:
        return self._part("describe", answer)

    def validate_bs_express(self, answer: kit.Answer) -> dict[str, Any]:
        return self._part("express", answer)

    def validate_bs_assert(self, answer: kit.Answer) -> dict[str, Any]:
        return self._part("assert", answer)

    def validate_bs_reinforce(self, answer: kit.Answer) -> dict[str, Any]:
        return self._part("reinforce", answer)

    def validate_bs_priority(self, answer: kit.Answer) -> dict[str, Any]:
        texts = sc.texts()
        payloads = {p: texts.text(f"priority_payloads.{p}") for p in sc.PRIORITIES}
        priority = sc.parse_priority(answer.latest, sc.phrasing(), payloads)
        if priority is None:
            # "both", "not sure": ask for the one that matters a little more, with the buttons.
            answer.hint("hints.priority_unclear")
        return {"bs_priority": priority}


class ValidateBoundaryTitleForm(_ValidateBoundary):
    """Takes the title as typed (shortened if very long), or the suggestion for "you choose"."""

    form = TITLE_FORM

    def validate_bs_title(self, answer: kit.Answer) -> dict[str, Any]:
        rules = sc.phrasing()
        typed = answer.latest
        if sc.wants_suggestion(typed, rules):
            return {"bs_title": _title_suggestion(answer.tracker)}
        title = sc.clean_title(typed, rules)
        bare = " ".join(typed.lower().split()).rstrip("?")
        if title is None or any(bare == phrase for phrase in rules.question_back):
            # No usable words, or "what do you mean?": offer the suggestion again.
            suggestion = _title_suggestion(answer.tracker)
            answer.hint("hints.title_unclear", suggestion=suggestion)
            return {"bs_title": None}
        return {"bs_title": title}


# --- "why are you asking this?" ------------------------------------------------------------


class ActionExplainBoundaryStep(kit.ExplainQuestion):
    """Explains why the current question of the script is asked."""

    skill = BOUNDARIES
    explained = (*PART_SLOTS, "bs_title")
    action_name = "action_explain_boundary_step"


# --- the script, edits, saving, listing ---------------------------------------------------


class ActionShowBoundaryScript(kit.SkillAction):
    """Assembles the script from the parts and shows it with GIVE or FAST and the tips."""

    action_name = "action_show_boundary_script"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = sc.texts()
        script = sc.assemble(_parts(tracker), sc.phrasing())
        lines = [texts.text("script.intro"), "", script.display]
        if script.shortened:
            lines += ["", texts.text("script.shortened_note")]
        dispatcher.utter_message(text="\n".join(lines))
        priority = tracker.get_slot("bs_priority")
        dispatcher.utter_message(
            text=texts.text("script.give" if priority == "relationship" else "script.fast")
        )
        dispatcher.utter_message(text=texts.text("script.tips"))
        buttons = [texts.button(f"edit_{part}", _edit_payload(part)) for part in sc.EDITABLE]
        buttons.append(texts.button("save", "/save_script"))
        dispatcher.utter_message(text=texts.text("script.next"), buttons=buttons)
        # The title is asked again at each save (offering the saved one), so an edit can rename.
        return [SlotSet(READY_SLOT, True), SlotSet("bs_title", None)]


def _edit_payload(part: str) -> str:
    return payload("edit_script_part", script_part=part)


class ActionEditScriptPart(kit.SkillAction):
    """Clears the part the user wants to change, so the form asks only that one again."""

    action_name = "action_edit_script_part"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = sc.texts()
        if not any(tracker.get_slot(slot) is not None for slot in PART_SLOTS):
            # Nothing written yet: the form that follows simply starts from the first question.
            dispatcher.utter_message(text=texts.text("edit.no_script"))
            return [SlotSet(READY_SLOT, False)]
        part = self._entity(tracker)
        if part not in sc.EDITABLE:
            part = sc.which_part(latest_text(tracker), sc.phrasing())
        if part is None:
            # "edit my script": which part? The form re-shows the script with one button each.
            dispatcher.utter_message(text=texts.text("edit.which_part"))
            return []
        dispatcher.utter_message(
            text=texts.text("edit.redo", part=texts.text(f"part_names.{part}"))
        )
        return [SlotSet(sc.SLOT_OF_PART[part], None), SlotSet(READY_SLOT, False)]

    @staticmethod
    def _entity(tracker: Tracker) -> str | None:
        return next(tracker.get_latest_entity_values("script_part"), None)


class ActionSaveBoundaryScript(OffersNudge, kit.SkillAction):
    """Saves the script (or updates it after an edit) and offers practice and the list."""

    action_name = "action_save_boundary_script"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = sc.texts()
        parts = _parts(tracker)
        script = sc.assemble(parts, sc.phrasing())
        title = tracker.get_slot("bs_title") or texts.text("save.title_fallback")
        fields = {
            "title": title,
            "describe": parts["describe"] or "",
            "express": parts["express"] or "",
            "assertion": parts["assert"] or "",
            "reinforce": parts["reinforce"] or SKIPPED_PART,
            "priority": tracker.get_slot("bs_priority"),
            "text": script.text,
        }
        known_id = tracker.get_slot("bs_script_id")
        if not keeping_allowed(dispatcher, tracker):
            return []
        try:
            with session_scope() as session:
                user = journal.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
                saved = None
                if known_id:
                    try:
                        saved = journal.update_boundary_script(
                            session, user, int(known_id), **fields
                        )
                    except (JournalNotFound, ValueError):
                        saved = None  # erased meanwhile: save it as a new script
                updated = saved is not None
                if saved is None:
                    saved = journal.save_boundary_script(session, user, **fields)
                script_id = saved.id
        except JournalUnavailable as error:
            logger.warning("boundaries: script not saved, journal unavailable (%s)", error)
            dispatcher.utter_message(response="utter_journal_unavailable")
            return []
        except JournalError as error:
            logger.warning("boundaries: script not saved (%s)", error)
            dispatcher.utter_message(response="utter_journal_unavailable")
            return []
        dispatcher.utter_message(
            text=texts.text("save.updated" if updated else "save.saved", title=title),
            buttons=[
                texts.button("practise", practise_payload(script_id)),
                texts.button("list", "/list_scripts"),
                texts.button("menu", "/ask_help"),
            ],
        )
        return [SlotSet("bs_script_id", str(script_id))]


class ActionListBoundaryScripts(kit.SkillAction):
    """Shows the user's saved scripts, newest first, each with a button to practise it."""

    action_name = "action_list_boundary_scripts"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        texts = sc.texts()
        try:
            with session_scope() as session:
                user = journal.find_user(session, channel_of(tracker), tracker.sender_id)
                scripts = journal.list_boundary_scripts(session, user) if user else []
                rows = [(s.id, s.title, s.updated_at, s.text) for s in scripts]
        except JournalError as error:
            logger.warning("boundaries: scripts not listed (%s)", error)
            dispatcher.utter_message(response="utter_journal_unavailable")
            return []
        if not rows:
            dispatcher.utter_message(
                text=texts.text("list.none"),
                buttons=[texts.button("start", "/start_boundary_script")],
            )
            return []
        dispatcher.utter_message(text=texts.text("list.header"))
        display_chars = sc.phrasing().part_display_chars
        for script_id, title, updated_at, text in rows[:LIST_LIMIT]:
            shown = "\n".join(shorten(line, display_chars) for line in text.splitlines())
            dispatcher.utter_message(
                text=texts.text(
                    "list.item", title=title, date=kit.long_date(updated_at), text=shown
                ),
                buttons=[
                    texts.button(
                        "practise_titled",
                        practise_payload(script_id),
                        title=_fits(title, "buttons.practise_titled"),
                    )
                ],
            )
        if len(rows) > LIST_LIMIT:
            dispatcher.utter_message(text=texts.text("list.more", count=len(rows) - LIST_LIMIT))
        return []
