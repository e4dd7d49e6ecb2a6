"""Role-play practice for saying no: choosing a scenario, the role-play loop, debrief, progress.

The engine (``bot.roleplay``) does the work; these actions wire it to the dialogue:

- ``action_prepare_roleplay`` clears the last practice and reads a scenario from the start
  message ("can you play my pushy coworker"), then ``roleplay_setup_form`` asks for what is
  still missing (scenario, difficulty; "surprise me" picks both);
- ``action_start_roleplay`` (or ``action_practise_script`` for a saved boundary script) starts
  the engine and shows its opening lines; ``roleplay_form`` then takes every reply, and its
  validator answers in character with one coaching line until the practice is over;
- "Try that again" (a button on every coaching line, or typed) reaches the same validator, which
  takes the last reply back (``roleplay.retry``) and lets the persona say its line once more;
- ``action_end_roleplay`` shows the debrief and saves the practice to the journal once the form
  ends: the persona gave up, ran out of moves, or the user said "stop";
- ``action_show_roleplay_progress`` answers "how is my practice going?" from the journal.

A crisis message never reaches the persona: the slot mappings refuse the crisis intent
(``not_intent``) and the crisis rule deactivates the form; a crisis DIET misses is caught by the
crisis detector in the form's validator before the engine sees the reply. Nothing here logs what
the user wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.journal import _UNAVAILABLE, channel_of, keeping_allowed, with_journal
from actions.nudge import OffersNudge
from bot import dialogue as kit
from bot import roleplay
from bot.dialogue.texts import shorten
from bot.dialogue.turns import payload
from bot.journal import JournalInputError, RoleplayReplyIn, repository
from bot.journal.inputs import REPLY_LIMIT
from bot.roleplay import choice, progress
from bot.roleplay import replies as reply_reading
from bot.roleplay.choice import MORE, SURPRISE, read_difficulty_choice, read_scenario_choice
from bot.roleplay.texts import texts

logger = logging.getLogger(__name__)

ROLEPLAY = kit.Skill("roleplay", texts, start_intent="start_roleplay")

# Slots (domain/roleplay.yml).
SCENARIO = "roleplay_scenario"
DIFFICULTY = "roleplay_difficulty"
PAGE = "roleplay_page"
MATCHES = "roleplay_matches"
REPLY = "roleplay_reply"
STATE = "roleplay_state"
REPLIES = "roleplay_replies"
SOURCE = "roleplay_source"
READY = "roleplay_ready"
SCRIPT_ID = "script_id"
REQUESTED = "requested_slot"  # set to None by a validator, it ends the form at once

START_INTENT = "start_roleplay"
RETRY_INTENT = "retry_roleplay_turn"
SCRIPT_DIFFICULTY = "firm"
SCRIPTS_SHOWN = 5


# -- small helpers ------------------------------------------------------------------------


def _button(key: str, button_payload: str) -> dict[str, str]:
    return texts().button(key, button_payload)


def _latest_entity(tracker: Tracker, entity: str) -> str | None:
    value = next(tracker.get_latest_entity_values(entity), None)
    return str(value) if value is not None else None


def _is_payload(text: str) -> bool:
    # The channels strip a leading "/" from typed text, so this is a button press.
    return text.startswith("/")


def _say(dispatcher: CollectingDispatcher, lines: Iterable[str], **message: Any) -> None:
    """Each line as a message; ``message`` (buttons) goes with the last one."""
    lines = list(lines)
    for index, line in enumerate(lines):
        dispatcher.utter_message(text=line, **(message if index == len(lines) - 1 else {}))


def _lost(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        text=texts().text("lost"), buttons=[_button("start", payload(START_INTENT))]
    )


# -- choosing a scenario and a level ------------------------------------------------------


def _page_of(tracker: Tracker) -> int:
    try:
        return max(0, int(tracker.get_slot(PAGE) or 0))
    except (TypeError, ValueError):
        return 0


def _surprise() -> tuple[str, str]:
    state, _ = roleplay.surprise()
    return state["scenario"], state["difficulty"]


class ActionPrepareRoleplay(kit.SkillAction):
    """Clears the last practice and keeps what the start message already chose."""

    action_name = "action_prepare_roleplay"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        scenario = _latest_entity(tracker, SCENARIO)
        difficulty = _latest_entity(tracker, DIFFICULTY)
        matches = None
        text = tracker.latest_message.get("text") or ""
        if scenario is None and not _is_payload(text):
            found = choice.match_scenarios(text)
            if len(found) == 1:
                scenario = found[0]
            elif found:
                matches = found
        reply_reading.warm_up()
        return [
            SlotSet(SCENARIO, scenario),
            SlotSet(DIFFICULTY, difficulty),
            SlotSet(PAGE, 0),
            SlotSet(MATCHES, matches),
            *_cleared_practice(),
        ]


class _AskRoleplay(kit.AskSlot):
    skill = ROLEPLAY


class ActionAskRoleplayScenario(_AskRoleplay):
    """ "Who should I play?" with a phone-sized page of scenarios (or the ones that matched)."""

    slot = SCENARIO

    @staticmethod
    def _matches(tracker: Tracker) -> list[str]:
        known = {s.id for s in choice.scenarios()}
        return [sid for sid in tracker.get_slot(MATCHES) or [] if sid in known]

    def question(self, tracker: Tracker) -> str:
        key = "ask.roleplay_scenario_matches" if self._matches(tracker) else "ask.roleplay_scenario"
        return self.texts().text(key)

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        titles = {s.id: s.title for s in choice.scenarios()}
        ids = self._matches(tracker) or choice.page_ids(_page_of(tracker))
        return [
            *(
                {"title": shorten(titles[sid]), "payload": payload(START_INTENT, **{SCENARIO: sid})}
                for sid in ids
            ),
            _button("more", payload(START_INTENT, **{SCENARIO: MORE})),
            _button("surprise", payload(START_INTENT, **{SCENARIO: SURPRISE})),
        ]


class ActionAskRoleplayDifficulty(_AskRoleplay):
    """ "How hard should they push?" with the three levels explained."""

    slot = DIFFICULTY

    def question(self, tracker: Tracker) -> str:
        levels = roleplay.list_difficulties()
        described = "\n".join(f"{level.label}: {level.description}" for level in levels)
        return self.texts().text("ask.roleplay_difficulty", levels=described)

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [
            *(
                {"title": level.label, "payload": payload(START_INTENT, **{DIFFICULTY: level.id})}
                for level in roleplay.list_difficulties()
            ),
            _button("surprise", payload(START_INTENT, **{DIFFICULTY: SURPRISE})),
        ]


class ValidateRoleplaySetupForm(kit.ExerciseValidator):
    """Turns taps and typed words into a scenario id and a difficulty id."""

    own_intents = frozenset({"practise_script"})
    form = "roleplay_setup_form"
    skill = ROLEPLAY

    # The scenario and level buttons answer with start_roleplay and its entities.
    answer_intents = frozenset({START_INTENT})
    # "can you play my pushy coworker" or a harder-level button fills them as the form starts.
    prefilled_slots = frozenset({SCENARIO, DIFFICULTY})

    def validate_roleplay_scenario(self, answer: kit.Answer) -> dict[str, Any]:
        page = _page_of(answer.tracker)
        picked = read_scenario_choice(answer.value, page)
        if picked.kind == "scenario":
            return {SCENARIO: picked.ids[0], MATCHES: None}
        if picked.kind == SURPRISE:
            scenario, difficulty = _surprise()
            # "Surprise me" picks both, unless a level was already chosen.
            chosen = answer.slot_value(DIFFICULTY)
            keep = chosen if read_difficulty_choice(chosen) not in (None, SURPRISE) else None
            return {SCENARIO: scenario, DIFFICULTY: keep or difficulty, MATCHES: None}
        if picked.kind == MORE:
            # None asks again, and the question shows the next page.
            return {SCENARIO: None, PAGE: (page + 1) % choice.pages(), MATCHES: None}
        if picked.kind == "matches":
            return {SCENARIO: None, MATCHES: list(picked.ids)}
        if picked.kind == "unclear":
            answer.hint("hints.scenario_unclear")
        # A button of another question (or an old message): ask again, without a scolding.
        return {SCENARIO: None}

    def validate_roleplay_difficulty(self, answer: kit.Answer) -> dict[str, Any]:
        text = str(answer.value)
        level = read_difficulty_choice(text)
        if level == SURPRISE:
            _, level = _surprise()
        if level is None and not _is_payload(text):
            answer.hint("hints.difficulty_unclear")
        # None asks again, with the buttons.
        return {DIFFICULTY: level}


# -- the role-play ------------------------------------------------------------------------


def _cleared_practice() -> list[EventType]:
    return [
        SlotSet(STATE, None),
        SlotSet(REPLIES, None),
        SlotSet(REPLY, None),
        SlotSet(SOURCE, None),
        SlotSet(READY, False),
    ]


def _say_turn(dispatcher: CollectingDispatcher, turn: roleplay.Turn) -> None:
    """The turn's messages; the coaching line carries the "Try that again" button."""
    buttons = [_button("retry", payload(RETRY_INTENT))] if turn.can_retry else []
    _say(dispatcher, turn.messages, **({"buttons": buttons} if buttons else {}))


def _began(state: dict[str, Any], source: str) -> list[EventType]:
    return [
        SlotSet(STATE, state),
        SlotSet(REPLIES, []),
        SlotSet(REPLY, None),
        SlotSet(SOURCE, source),
    ]


class ActionStartRoleplay(kit.SkillAction):
    """Enters the role: the engine's opening lines ("You're talking to your coworker Sam...")."""

    action_name = "action_start_roleplay"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        scenario = tracker.get_slot(SCENARIO)
        difficulty = tracker.get_slot(DIFFICULTY)
        try:
            state, opening = roleplay.start(scenario, difficulty)
        except ValueError:
            # The setup form only lets known ids through; a stale tracker may still get here.
            logger.warning("role-play could not start: unknown scenario or difficulty")
            _lost(dispatcher)
            return _cleared_practice()
        reply_reading.warm_up()
        _say(dispatcher, opening)
        return [*_began(state, scenario), SlotSet(PAGE, None), SlotSet(MATCHES, None)]


# The check-in's "no" (bot/policies/check_in.py) sends the user back to the practice.
CHECK_IN_NO_ACTION = "utter_crisis_check_in_no"
ROLEPLAY_FORM = "roleplay_form"


def _action_before_the_form(tracker: Tracker) -> str | None:
    """The action that ran before the role-play form asked for a reply.

    Rasa hands the question a tracker that already ends with the form's own run, so the
    latest action is the form itself: the one before it says where the user is coming from.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") != ROLEPLAY_FORM:
            return event.get("name")
    return None


class ActionAskRoleplayReply(_AskRoleplay):
    """The form's question for each reply: silent, because the persona has just spoken.

    After the check-in question ("no, I'm not thinking about suicide") the practice resumes, and
    the persona's last words are said again so the user knows what they are answering.
    """

    slot = REPLY

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if _action_before_the_form(tracker) == CHECK_IN_NO_ACTION:
            dispatcher.utter_message(text=self.texts().text("ask.roleplay_reply_back"))
            _say(dispatcher, roleplay.last_words(tracker.get_slot(STATE)))
        return []


class ValidateRoleplayForm(kit.ExerciseValidator):
    """One reply to the persona: the engine's answer in character and one coaching line.

    A button of something else gets the kit's "finish this first" (``hints.finish_this_first``);
    "let's continue" is said to the persona like any reply.
    """

    form = ROLEPLAY_FORM
    skill = ROLEPLAY

    answer_intents = frozenset({RETRY_INTENT})
    continue_answers = frozenset({REPLY})
    # Every message is said to the persona ("help me out here" is a reply, not a request).
    hears_requests = False

    def validate_roleplay_reply(self, answer: kit.Answer) -> dict[str, Any]:
        text = answer.value if isinstance(answer.value, str) else ""
        if not text.strip():
            return {REPLY: None}
        if reply_reading.asks_retry(answer.intent, text):
            return self._retry(answer, text)
        if len(text) > REPLY_LIMIT:
            # The journal keeps replies up to REPLY_LIMIT characters and never cuts them.
            answer.hint("hints.reply_too_long")
            return {REPLY: None}
        reply_reading.wait_for_warm_up()
        if reply_reading.signals_crisis(text):
            # DIET missed a crisis the detector sees (the slot guard only knows the intent): the
            # message never reaches the persona, the coaching or the journal, and the role-play
            # ends at once, without a debrief (action_end_roleplay finds no state).
            logger.info("crisis detected mid role-play: the practice is dropped")
            answer.dispatcher.utter_message(response="utter_crisis_resources")
            return {REPLY: None, STATE: None, REPLIES: None, SOURCE: None, REQUESTED: None}
        if reply_reading.says_stop(answer.intent, text):
            # Ends the form; action_end_roleplay then stops the engine and gives the debrief.
            return {REPLY: None, REQUESTED: None}
        try:
            turn = roleplay.respond(answer.slot_value(STATE), text)
        except ValueError:
            logger.warning("role-play state missing or unusable: the practice ends")
            _lost(answer.dispatcher)
            # A filled slot ends the form; with no state there is nothing to debrief.
            return {REPLY: text, STATE: None, REPLIES: None}
        _say_turn(answer.dispatcher, turn)
        replies = [*(answer.slot_value(REPLIES) or []), text]
        # None keeps the form listening; the reply stays only once the practice is over,
        # which completes the form and lets action_end_roleplay run.
        return {REPLY: text if turn.over else None, STATE: turn.state, REPLIES: replies}

    @staticmethod
    def _retry(answer: kit.Answer, text: str) -> dict[str, Any]:
        """Take the last reply back; the persona says its line again and the form listens on."""
        state = answer.slot_value(STATE)
        try:
            turn = roleplay.retry(state)
        except ValueError:
            logger.warning("role-play state missing or unusable: the practice ends")
            _lost(answer.dispatcher)
            # A filled slot ends the form; with no state there is nothing to debrief.
            return {REPLY: text, STATE: None, REPLIES: None}
        _say(answer.dispatcher, turn.messages)
        replies = list(answer.slot_value(REPLIES) or [])
        if len(turn.state["log"]) < len(state["log"]):
            replies = replies[:-1]  # the journal keeps the reply that replaced it instead
        return {REPLY: None, STATE: turn.state, REPLIES: replies}


def _usable_state(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    try:
        roleplay.debrief(value)
    except (ValueError, KeyError, TypeError):
        return None
    return value


def _save_practice(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    state: dict[str, Any],
    outcome: str,
) -> bool:
    """Store the practice and each reply with its assessment; False if it was not stored."""
    log = state["log"]
    texts = list(tracker.get_slot(REPLIES) or [])
    if len(texts) != len(log):
        # Both grow together in the form's validator; pairing them otherwise would store a
        # label next to the wrong words.
        logger.warning("role-play not saved: %d replies for %d assessments", len(texts), len(log))
        return False
    replies = [
        RoleplayReplyIn(text, entry["label"], dict(entry["features"]))
        for text, entry in zip(texts, log, strict=True)
    ]
    if not replies:
        return False
    source = tracker.get_slot(SOURCE) or state["scenario"]

    def write(session: Session) -> bool:
        user = repository.get_or_create_user(session, channel_of(tracker), tracker.sender_id)
        repository.save_roleplay_session(
            session, user, source, state["difficulty"], outcome, replies
        )
        return True

    try:
        return with_journal(dispatcher, write) is True
    except JournalInputError as error:
        logger.warning("role-play not saved: %s", error)
        return False


def _next_buttons(state: dict[str, Any]) -> list[dict[str, str]]:
    buttons = [_button("again", payload(START_INTENT))]
    levels = [level.id for level in roleplay.list_difficulties()]
    harder = levels.index(state["difficulty"]) + 1 if state["difficulty"] in levels else 0
    if state.get("script") is None and 0 < harder < len(levels):
        harder_payload = payload(
            START_INTENT, **{SCENARIO: state["scenario"], DIFFICULTY: levels[harder]}
        )
        buttons.append(_button("harder", harder_payload))
    buttons.append(_button("progress", payload("ask_roleplay_progress")))
    return buttons


class ActionEndRoleplay(OffersNudge, kit.SkillAction):
    """The debrief (clear no's, apologies, reasons, the strongest reply) and the journal entry.

    Runs when the form ends: the persona gave up or ran out of moves (the last reply was already
    answered by the form's validator), or the user said "stop" (the engine is stopped here).
    """

    action_name = "action_end_roleplay"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        events = [
            *_cleared_practice(),
            SlotSet(SCENARIO, None),
            SlotSet(DIFFICULTY, None),
            SlotSet(SCRIPT_ID, None),
        ]
        state = _usable_state(tracker.get_slot(STATE))
        if state is None:
            # Dropped on purpose (a crisis) or already explained by the validator: no debrief.
            return events
        if not state["over"]:
            turn = roleplay.stop(state)
            dispatcher.utter_message(text=turn.coach_line)
            state = turn.state
        summary = roleplay.debrief(state)
        dispatcher.utter_message(text=texts().text("debrief", debrief="\n".join(summary.lines)))
        if keeping_allowed(dispatcher, tracker) and _save_practice(
            dispatcher, tracker, state, summary.outcome
        ):
            dispatcher.utter_message(text=texts().text("saved"))
        dispatcher.utter_message(text=texts().text("next"), buttons=_next_buttons(state))
        return events


# -- a saved boundary script --------------------------------------------------------------


def _script_for_practice(script: Any) -> dict[str, str]:
    """A journal boundary script as the engine's ``start_script`` takes it."""
    return {
        "title": script.title,
        "describe": script.describe,
        "express": script.express,
        "assert_": script.assertion,
        "reinforce": script.reinforce,
    }


def _as_id(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


class ActionPractiseScript(kit.SkillAction):
    """Practises a saved boundary script, or lists the scripts to choose from.

    Sets ``roleplay_ready`` so the rules know whether to open the role-play form.
    """

    action_name = "action_practise_script"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        not_ready = [SlotSet(READY, False), SlotSet(SCRIPT_ID, None)]
        # Only an id from this very message counts: the slot may hold one from long ago.
        raw_id = _latest_entity(tracker, SCRIPT_ID)
        wanted = _as_id(raw_id)

        def read(session: Session) -> tuple[dict[str, str] | None, list[tuple[int, str]]]:
            user = repository.find_user(session, channel_of(tracker), tracker.sender_id)
            if user is None:
                return None, []
            if wanted is not None:
                script = repository.get_boundary_script(session, user, wanted)
                if script is not None:
                    return _script_for_practice(script), []
            scripts = repository.list_boundary_scripts(session, user)[:SCRIPTS_SHOWN]
            return None, [(s.id, s.title) for s in scripts]

        found = with_journal(dispatcher, read)
        if found is _UNAVAILABLE:
            return not_ready
        script, listed = found
        if script is not None:
            try:
                state, opening = roleplay.start_script(script, SCRIPT_DIFFICULTY)
            except ValueError:
                logger.warning("saved boundary script %s cannot be practised", wanted)
                script = None
            else:
                reply_reading.warm_up()
                _say(dispatcher, opening)
                source = f"{progress.SCRIPT_SOURCE_PREFIX}{wanted}"
                return [*_began(state, source), SlotSet(READY, True), SlotSet(SCRIPT_ID, None)]
        if raw_id is not None:
            dispatcher.utter_message(text=texts().text("script.missing"))
        if not listed:
            dispatcher.utter_message(
                text=texts().text("script.none"),
                buttons=[
                    _button("write_script", payload("start_boundary_script")),
                    _button("practise_scenario", payload(START_INTENT)),
                ],
            )
            return not_ready
        buttons = [
            {"title": shorten(title), "payload": payload("practise_script", script_id=str(sid))}
            for sid, title in listed
        ]
        dispatcher.utter_message(text=texts().text("script.pick"), buttons=buttons)
        return not_ready


# -- progress -----------------------------------------------------------------------------


class ActionShowRoleplayProgress(kit.SkillAction):
    """ "How is my practice going?": the last practices and how each habit is changing
    (``bot.roleplay.progress``)."""

    action_name = "action_show_roleplay_progress"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        def read(session: Session) -> tuple[list[progress.Practice], dict[int, str]]:
            user = repository.find_user(session, channel_of(tracker), tracker.sender_id)
            if user is None:
                return [], {}
            practices = [
                progress.Practice(
                    when=row.created_at,
                    source=row.scenario_id,
                    difficulty=row.difficulty,
                    replies=tuple(dict(reply.features or {}) for reply in row.replies),
                )
                for row in repository.list_roleplay_sessions(session, user)
            ]
            titles = {s.id: s.title for s in repository.list_boundary_scripts(session, user)}
            return practices, titles

        found = with_journal(dispatcher, read)
        if found is _UNAVAILABLE:
            return []
        practices, script_titles = found
        messages = progress.progress_messages(
            [p for p in practices if p.replies],
            texts(),
            titles={s.id: s.title for s in choice.scenarios()},
            levels={level.id: level.label for level in roleplay.list_difficulties()},
            script_titles=script_titles,
        )
        if len(messages) == 1:
            # Nothing practised yet: an offer to start.
            buttons = [_button("start", payload(START_INTENT))]
            dispatcher.utter_message(text=messages[0], buttons=buttons)
        else:
            _say(dispatcher, messages)
        return []
