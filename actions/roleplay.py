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

import json
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.journal import _UNAVAILABLE, channel_of, keeping_allowed, with_journal
from actions.values import answers_only
from bot import roleplay
from bot.journal import JournalInputError, RoleplayReplyIn, repository
from bot.journal.inputs import REPLY_LIMIT

logger = logging.getLogger(__name__)

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
STOP_INTENT = "stop_exercise"
RETRY_INTENT = "retry_roleplay_turn"
SURPRISE = "surprise"
MORE = "more"
PAGE_SIZE = 6  # scenario buttons per message, plus "Show me others" and "Surprise me"
BUTTON_TITLE_MAX = 30
SCRIPT_DIFFICULTY = "firm"
SCRIPT_SOURCE_PREFIX = "own_script:"
SCRIPTS_SHOWN = 5
SESSIONS_SHOWN = 3
RECENT_SESSIONS = 3  # "lately" in the progress trend; everything older is "before"
STEADY_BAND = 0.10  # a change in the share of clear no's smaller than this is "about the same"
TREND_FEATURES = ("clear_no", "apology", "over_justification", "hedge", "hostile")

_WORD_RE = re.compile(r"[a-z0-9]+")
# Words that say nothing about who to play ("your friend Maya", "a creator you follow").
_FILLER_WORDS = frozenset(
    {"a", "an", "and", "for", "from", "in", "my", "of", "on", "one", "the", "to", "with", "you"}
    | {"your", "can", "play", "pushy", "practise", "practice", "saying", "say", "want", "let"}
)
# Typed answers that leave the choice to the bot.
_SURPRISE_WORDS = frozenset({"surprise", "random", "anyone", "anything", "whatever", "any"})


# -- small helpers ------------------------------------------------------------------------


def _template(domain: DomainDict, name: str) -> str:
    """The text of a response, used as a template for a line inside a longer message."""
    try:
        return str(domain["responses"][name][0]["text"])
    except (KeyError, IndexError, TypeError) as error:
        raise KeyError(f"domain response {name!r} with a text is missing") from error


def _button(domain: DomainDict, title_response: str, payload: str) -> dict[str, str]:
    return {"title": _template(domain, title_response), "payload": payload}


def _payload(intent: str, **entities: str) -> str:
    """A button payload; Rasa reads the JSON object after the intent as entities."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(entities, separators=(",", ":"))


def _short(title: str) -> str:
    title = " ".join(title.split())
    if len(title) <= BUTTON_TITLE_MAX:
        return title
    return title[: BUTTON_TITLE_MAX - 1].rstrip() + "…"


def _latest_entity(tracker: Tracker, entity: str) -> str | None:
    value = next(tracker.get_latest_entity_values(entity), None)
    return str(value) if value is not None else None


def _words(text: str) -> set[str]:
    # A crude stem ("partners" -> "partner") is enough to match a word against a scenario.
    words = set()
    for word in _WORD_RE.findall(text.lower().replace("'", "")):
        if word in _FILLER_WORDS or len(word) < 3:
            continue
        words.add(word[:-1] if word.endswith("s") and len(word) > 4 else word)
    return words


def _signals_crisis(text: str) -> bool:
    """The rule-based crisis detector's verdict (the floor under DIET's crisis intent)."""
    from bot import safety  # loads its patterns on first use, not at import

    return safety.detect(text).is_crisis


def _says_stop(tracker: Tracker, text: str) -> bool:
    """ "stop", "pause", "I'm done with this": the end of the practice, not a reply.

    NLU's stop_exercise also takes soft refusals ("not now", "not this time") that are exactly
    what the practice is for, so a message that carries a no or a maybe stays a reply.
    """
    if (tracker.latest_message.get("intent") or {}).get("name") != STOP_INTENT:
        return False
    features = roleplay.assess(text).features
    return not (features["clear_no"] or features["hedge"])


def _asks_retry(tracker: Tracker, text: str) -> bool:
    """ "Try that again": the button, the typed words the coach suggests, or the intent.

    The intent alone is not enough: "No. Try again next year." is said to the persona, so a
    message that carries a no, a maybe, a yes or a jab stays a reply (as with "stop").
    """
    from bot.roleplay.coaching import coaching

    if text.strip() == f"/{RETRY_INTENT}" or coaching().asks_retry(text):
        return True
    if (tracker.latest_message.get("intent") or {}).get("name") != RETRY_INTENT:
        return False
    features = roleplay.assess(text).features
    return not any(features[name] for name in ("clear_no", "hedge", "gives_in", "hostile"))


def _is_payload(text: str) -> bool:
    # The channels strip a leading "/" from typed text, so this is a button press.
    return text.startswith("/")


# Loading the assessor's spaCy pipeline takes seconds (TensorFlow comes along): start it in the
# background when a practice is about to begin, so the first reply is not kept waiting.
_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def _load_assessor() -> None:
    try:
        roleplay.assess("no")
    except Exception as error:  # the first real reply will raise it again, in the open
        logger.warning("role-play warm-up failed (%s)", type(error).__name__)


def warm_up() -> None:
    """Start loading the assessor in the background, once per process."""
    global _warm_up_thread
    with _warm_up_lock:
        if _warm_up_thread is None:
            _warm_up_thread = threading.Thread(
                target=_load_assessor, name="roleplay-warm-up", daemon=True
            )
            _warm_up_thread.start()


def _wait_for_warm_up() -> None:
    thread = _warm_up_thread
    if thread is not None:
        thread.join()


# -- choosing a scenario and a level ------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    """What a typed or tapped answer to "who should I play?" means."""

    kind: str  # "scenario", "surprise", "more", "matches", "unclear", "button"
    ids: tuple[str, ...] = ()


def _scenarios() -> list[roleplay.Scenario]:
    return roleplay.list_scenarios()


def _keywords(scenario: roleplay.Scenario) -> set[str]:
    return _words(
        " ".join(
            (
                scenario.title,
                scenario.category,
                scenario.relationship,
                scenario.persona_role,
                scenario.persona_name,
            )
        )
    )


def match_scenarios(text: str) -> list[str]:
    """Ids of the scenarios that typed words point to best ("coworker" -> cover_shift)."""
    words = _words(text)
    if not words:
        return []
    scores = {s.id: len(words & _keywords(s)) for s in _scenarios()}
    best = max(scores.values(), default=0)
    return [sid for sid, score in scores.items() if best and score == best]


def _page_of(tracker: Tracker) -> int:
    try:
        return max(0, int(tracker.get_slot(PAGE) or 0))
    except (TypeError, ValueError):
        return 0


def _pages() -> int:
    return max(1, -(-len(_scenarios()) // PAGE_SIZE))


def _page_ids(page: int) -> list[str]:
    ids = [s.id for s in _scenarios()]
    start = (page % _pages()) * PAGE_SIZE
    return ids[start : start + PAGE_SIZE]


def read_scenario_choice(value: Any, page: int) -> _Choice:
    """Understand an answer to "who should I play?": an id, a title, a number, or words."""
    text = " ".join(str(value or "").split())
    if not text:
        return _Choice("unclear")
    if _is_payload(text):
        return _Choice("button")
    lowered = text.lower()
    known = {s.id: s for s in _scenarios()}
    if lowered in (SURPRISE, MORE):
        return _Choice(lowered)
    if lowered in known:
        return _Choice("scenario", (lowered,))
    for scenario in known.values():
        if lowered.strip(" .!\"'") == scenario.title.lower():
            return _Choice("scenario", (scenario.id,))
    if lowered.isdigit():
        on_page = _page_ids(page)
        index = int(lowered) - 1
        if 0 <= index < len(on_page):
            return _Choice("scenario", (on_page[index],))
        return _Choice("unclear")
    if _words(text) & _SURPRISE_WORDS or "surprise" in lowered:
        return _Choice(SURPRISE)
    found = match_scenarios(text)
    if len(found) == 1:
        return _Choice("scenario", (found[0],))
    if found:
        return _Choice("matches", tuple(found))
    return _Choice("unclear")


def read_difficulty_choice(value: Any) -> str | None:
    """ "gentle", "Firm", "3", "surprise me" -> a difficulty id (or "surprise"); None if unclear."""
    text = " ".join(str(value or "").split()).lower().strip(" .!\"'")
    levels = roleplay.list_difficulties()
    for level in levels:
        if text in (level.id, level.label.lower()):
            return level.id
    if text.isdigit() and 1 <= int(text) <= len(levels):
        return levels[int(text) - 1].id
    if text == SURPRISE or _words(text) & _SURPRISE_WORDS or "surprise" in text:
        return SURPRISE
    named = [level.id for level in levels if level.id in _words(text)]
    return named[0] if len(named) == 1 else None


def _surprise() -> tuple[str, str]:
    state, _ = roleplay.surprise()
    return state["scenario"], state["difficulty"]


class ActionPrepareRoleplay(Action):
    """Clears the last practice and keeps what the start message already chose."""

    def name(self) -> str:
        return "action_prepare_roleplay"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        scenario = _latest_entity(tracker, SCENARIO)
        difficulty = _latest_entity(tracker, DIFFICULTY)
        matches = None
        text = tracker.latest_message.get("text") or ""
        if scenario is None and not _is_payload(text):
            found = match_scenarios(text)
            if len(found) == 1:
                scenario = found[0]
            elif found:
                matches = found
        warm_up()
        return [
            SlotSet(SCENARIO, scenario),
            SlotSet(DIFFICULTY, difficulty),
            SlotSet(PAGE, 0),
            SlotSet(MATCHES, matches),
            *_cleared_practice(),
        ]


class ActionAskRoleplayScenario(Action):
    """ "Who should I play?" with a phone-sized page of scenarios (or the ones that matched)."""

    def name(self) -> str:
        return "action_ask_roleplay_scenario"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        titles = {s.id: s.title for s in _scenarios()}
        matches = [sid for sid in tracker.get_slot(MATCHES) or [] if sid in titles]
        ids = matches or _page_ids(_page_of(tracker))
        buttons = [
            {"title": _short(titles[sid]), "payload": _payload(START_INTENT, **{SCENARIO: sid})}
            for sid in ids
        ]
        buttons.append(
            _button(
                domain, "utter_roleplay_button_more", _payload(START_INTENT, **{SCENARIO: MORE})
            )
        )
        buttons.append(
            _button(
                domain,
                "utter_roleplay_button_surprise",
                _payload(START_INTENT, **{SCENARIO: SURPRISE}),
            )
        )
        response = "utter_roleplay_pick_match" if matches else "utter_roleplay_pick_scenario"
        dispatcher.utter_message(response=response, buttons=buttons)
        return []


class ActionAskRoleplayDifficulty(Action):
    """ "How hard should they push?" with the three levels explained."""

    def name(self) -> str:
        return "action_ask_roleplay_difficulty"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        levels = roleplay.list_difficulties()
        buttons = [
            {"title": level.label, "payload": _payload(START_INTENT, **{DIFFICULTY: level.id})}
            for level in levels
        ]
        buttons.append(
            _button(
                domain,
                "utter_roleplay_button_surprise",
                _payload(START_INTENT, **{DIFFICULTY: SURPRISE}),
            )
        )
        described = "\n".join(f"{level.label}: {level.description}" for level in levels)
        dispatcher.utter_message(
            response="utter_roleplay_pick_difficulty", levels=described, buttons=buttons
        )
        return []


class ValidateRoleplaySetupForm(FormValidationAction):
    """Turns taps and typed words into a scenario id and a difficulty id."""

    def name(self) -> str:
        return "validate_roleplay_setup_form"

    @answers_only
    def validate_roleplay_scenario(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        choice = read_scenario_choice(slot_value, _page_of(tracker))
        if choice.kind == "scenario":
            return {SCENARIO: choice.ids[0], MATCHES: None}
        if choice.kind == SURPRISE:
            scenario, difficulty = _surprise()
            # "Surprise me" picks both, unless a level was already chosen.
            chosen = tracker.get_slot(DIFFICULTY)
            keep = chosen if read_difficulty_choice(chosen) not in (None, SURPRISE) else None
            return {SCENARIO: scenario, DIFFICULTY: keep or difficulty, MATCHES: None}
        if choice.kind == MORE:
            # None asks again, and the question shows the next page.
            return {SCENARIO: None, PAGE: (_page_of(tracker) + 1) % _pages(), MATCHES: None}
        if choice.kind == "matches":
            return {SCENARIO: None, MATCHES: list(choice.ids)}
        if choice.kind == "unclear":
            dispatcher.utter_message(response="utter_roleplay_scenario_unclear")
        # A button of another question (or an old message): ask again, without a scolding.
        return {SCENARIO: None}

    @answers_only
    def validate_roleplay_difficulty(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(slot_value)
        level = read_difficulty_choice(text)
        if level == SURPRISE:
            _, level = _surprise()
        if level is None:
            if not _is_payload(text):
                dispatcher.utter_message(response="utter_roleplay_difficulty_unclear")
            # None asks again, with the buttons.
            return {DIFFICULTY: None}
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


def _say(dispatcher: CollectingDispatcher, lines: Iterable[str]) -> None:
    for line in lines:
        dispatcher.utter_message(text=line)


def _say_turn(dispatcher: CollectingDispatcher, domain: DomainDict, turn: roleplay.Turn) -> None:
    """The turn's messages; the coaching line carries the "Try that again" button."""
    messages = turn.messages
    _say(dispatcher, messages[:-1])
    buttons = (
        [_button(domain, "utter_roleplay_button_retry", _payload(RETRY_INTENT))]
        if turn.can_retry
        else []
    )
    if buttons:
        dispatcher.utter_message(text=messages[-1], buttons=buttons)
    else:
        dispatcher.utter_message(text=messages[-1])


def _began(state: dict[str, Any], source: str) -> list[EventType]:
    return [
        SlotSet(STATE, state),
        SlotSet(REPLIES, []),
        SlotSet(REPLY, None),
        SlotSet(SOURCE, source),
    ]


class ActionStartRoleplay(Action):
    """Enters the role: the engine's opening lines ("You're talking to your coworker Sam...")."""

    def name(self) -> str:
        return "action_start_roleplay"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        scenario = tracker.get_slot(SCENARIO)
        difficulty = tracker.get_slot(DIFFICULTY)
        try:
            state, opening = roleplay.start(scenario, difficulty)
        except ValueError:
            # The setup form only lets known ids through; a stale tracker may still get here.
            logger.warning("role-play could not start: unknown scenario or difficulty")
            dispatcher.utter_message(response="utter_roleplay_lost")
            return _cleared_practice()
        warm_up()
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


class ActionAskRoleplayReply(Action):
    """The form's question for each reply: silent, because the persona has just spoken.

    After the check-in question ("no, I'm not thinking about suicide") the practice resumes, and
    the persona's last words are said again so the user knows what they are answering.
    """

    def name(self) -> str:
        return "action_ask_roleplay_reply"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if _action_before_the_form(tracker) == CHECK_IN_NO_ACTION:
            dispatcher.utter_message(response="utter_roleplay_back")
            _say(dispatcher, roleplay.last_words(tracker.get_slot(STATE)))
        return []


class ValidateRoleplayForm(FormValidationAction):
    """One reply to the persona: the engine's answer in character and one coaching line."""

    def name(self) -> str:
        return "validate_roleplay_form"

    def validate_roleplay_reply(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = slot_value if isinstance(slot_value, str) else ""
        if not text.strip():
            return {REPLY: None}
        if _asks_retry(tracker, text):
            return self._retry(dispatcher, tracker, text)
        if _is_payload(text):
            # A menu button from an earlier message is not something said to the persona.
            dispatcher.utter_message(response="utter_roleplay_still_running")
            return {REPLY: None}
        if len(text) > REPLY_LIMIT:
            # The journal keeps replies up to REPLY_LIMIT characters and never cuts them.
            dispatcher.utter_message(response="utter_roleplay_reply_too_long")
            return {REPLY: None}
        _wait_for_warm_up()
        if _signals_crisis(text):
            # DIET missed a crisis the detector sees (the slot guard only knows the intent): the
            # message never reaches the persona, the coaching or the journal, and the role-play
            # ends at once, without a debrief (action_end_roleplay finds no state).
            logger.info("crisis detected mid role-play: the practice is dropped")
            dispatcher.utter_message(response="utter_crisis_resources")
            return {REPLY: None, STATE: None, REPLIES: None, SOURCE: None, REQUESTED: None}
        if _says_stop(tracker, text):
            # Ends the form; action_end_roleplay then stops the engine and gives the debrief.
            return {REPLY: None, REQUESTED: None}
        try:
            turn = roleplay.respond(tracker.get_slot(STATE), text)
        except ValueError:
            logger.warning("role-play state missing or unusable: the practice ends")
            dispatcher.utter_message(response="utter_roleplay_lost")
            # A filled slot ends the form; with no state there is nothing to debrief.
            return {REPLY: text, STATE: None, REPLIES: None}
        _say_turn(dispatcher, domain, turn)
        replies = [*(tracker.get_slot(REPLIES) or []), text]
        # None keeps the form listening; the reply stays only once the practice is over,
        # which completes the form and lets action_end_roleplay run.
        return {REPLY: text if turn.over else None, STATE: turn.state, REPLIES: replies}

    @staticmethod
    def _retry(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> dict[str, Any]:
        """Take the last reply back; the persona says its line again and the form listens on."""
        state = tracker.get_slot(STATE)
        try:
            turn = roleplay.retry(state)
        except ValueError:
            logger.warning("role-play state missing or unusable: the practice ends")
            dispatcher.utter_message(response="utter_roleplay_lost")
            # A filled slot ends the form; with no state there is nothing to debrief.
            return {REPLY: text, STATE: None, REPLIES: None}
        _say(dispatcher, turn.messages)
        replies = list(tracker.get_slot(REPLIES) or [])
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


def _next_buttons(domain: DomainDict, state: dict[str, Any]) -> list[dict[str, str]]:
    buttons = [_button(domain, "utter_roleplay_button_again", _payload(START_INTENT))]
    levels = [level.id for level in roleplay.list_difficulties()]
    harder = levels.index(state["difficulty"]) + 1 if state["difficulty"] in levels else 0
    if state.get("script") is None and 0 < harder < len(levels):
        payload = _payload(
            START_INTENT, **{SCENARIO: state["scenario"], DIFFICULTY: levels[harder]}
        )
        buttons.append(_button(domain, "utter_roleplay_button_harder", payload))
    buttons.append(
        _button(domain, "utter_roleplay_button_progress", _payload("ask_roleplay_progress"))
    )
    return buttons


class ActionEndRoleplay(Action):
    """The debrief (clear no's, apologies, reasons, the strongest reply) and the journal entry.

    Runs when the form ends: the persona gave up or ran out of moves (the last reply was already
    answered by the form's validator), or the user said "stop" (the engine is stopped here).
    """

    def name(self) -> str:
        return "action_end_roleplay"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
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
        dispatcher.utter_message(
            response="utter_roleplay_debrief", debrief="\n".join(summary.lines)
        )
        if keeping_allowed(dispatcher, tracker) and _save_practice(
            dispatcher, tracker, state, summary.outcome
        ):
            dispatcher.utter_message(response="utter_roleplay_saved")
        dispatcher.utter_message(
            response="utter_roleplay_next", buttons=_next_buttons(domain, state)
        )
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


class ActionPractiseScript(Action):
    """Practises a saved boundary script, or lists the scripts to choose from.

    Sets ``roleplay_ready`` so the rules know whether to open the role-play form.
    """

    def name(self) -> str:
        return "action_practise_script"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
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
                warm_up()
                _say(dispatcher, opening)
                source = f"{SCRIPT_SOURCE_PREFIX}{wanted}"
                return [*_began(state, source), SlotSet(READY, True), SlotSet(SCRIPT_ID, None)]
        if raw_id is not None:
            dispatcher.utter_message(response="utter_roleplay_script_missing")
        if not listed:
            dispatcher.utter_message(response="utter_roleplay_no_scripts")
            return not_ready
        buttons = [
            {"title": _short(title), "payload": _payload("practise_script", script_id=str(sid))}
            for sid, title in listed
        ]
        dispatcher.utter_message(response="utter_roleplay_pick_script", buttons=buttons)
        return not_ready


# -- progress -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Practice:
    when: datetime
    source: str
    difficulty: str
    replies: tuple[dict[str, bool], ...]


def _feature_share(practices: Iterable[_Practice], feature: str) -> tuple[int, int]:
    replies = [r for p in practices for r in p.replies]
    return sum(1 for r in replies if r.get(feature)), len(replies)


def _percent(count: int, total: int) -> str:
    return f"{round(100 * count / total)}%" if total else "0%"


def _date(moment: datetime) -> str:
    return f"{moment.day} {moment:%b}"


class ActionShowRoleplayProgress(Action):
    """ "How is my practice going?": the last practices and how each habit is changing."""

    def name(self) -> str:
        return "action_show_roleplay_progress"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        def read(session: Session) -> tuple[list[_Practice], dict[int, str]]:
            user = repository.find_user(session, channel_of(tracker), tracker.sender_id)
            if user is None:
                return [], {}
            practices = [
                _Practice(
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
        practices = [p for p in practices if p.replies]
        if not practices:
            dispatcher.utter_message(response="utter_roleplay_progress_none")
            return []
        dispatcher.utter_message(
            response="utter_roleplay_progress_sessions",
            total=len(practices),
            sessions="\n".join(
                self._session_line(domain, p, script_titles) for p in practices[:SESSIONS_SHOWN]
            ),
        )
        recent, earlier = practices[:RECENT_SESSIONS], practices[RECENT_SESSIONS:]
        if not earlier:
            lines = []
            for feature in TREND_FEATURES:
                count, total = _feature_share(recent, feature)
                lines.append(
                    _template(domain, "utter_roleplay_so_far_line").format(
                        feature=_template(domain, f"utter_roleplay_feature_{feature}"),
                        now=_percent(count, total),
                    )
                )
            dispatcher.utter_message(
                response="utter_roleplay_progress_so_far", lines="\n".join(lines)
            )
            return []
        lines = []
        for feature in TREND_FEATURES:
            now = _feature_share(recent, feature)
            before = _feature_share(earlier, feature)
            lines.append(
                _template(domain, "utter_roleplay_trend_line").format(
                    feature=_template(domain, f"utter_roleplay_feature_{feature}"),
                    now=_percent(*now),
                    before=_percent(*before),
                )
            )
        dispatcher.utter_message(
            response="utter_roleplay_progress_trend",
            recent=len(recent),
            earlier=len(earlier),
            lines="\n".join(lines),
        )
        dispatcher.utter_message(response=_verdict(recent, earlier))
        return []

    @staticmethod
    def _session_line(
        domain: DomainDict, practice: _Practice, script_titles: dict[int, str]
    ) -> str:
        titles = {s.id: s.title for s in _scenarios()}
        levels = {level.id: level.label for level in roleplay.list_difficulties()}
        if practice.source.startswith(SCRIPT_SOURCE_PREFIX):
            script_id = _as_id(practice.source[len(SCRIPT_SOURCE_PREFIX) :])
            title = script_titles.get(script_id) or _template(domain, "utter_roleplay_own_script")
        else:
            title = titles.get(practice.source, practice.source)
        clear_no, replies = _feature_share([practice], "clear_no")
        return _template(domain, "utter_roleplay_progress_line").format(
            date=_date(practice.when),
            title=title,
            difficulty=levels.get(practice.difficulty, practice.difficulty),
            clear_no=clear_no,
            replies=replies,
        )


def _verdict(recent: list[_Practice], earlier: list[_Practice]) -> str:
    now_count, now_total = _feature_share(recent, "clear_no")
    before_count, before_total = _feature_share(earlier, "clear_no")
    change = now_count / now_total - before_count / before_total
    if change >= STEADY_BAND:
        return "utter_roleplay_verdict_clearer"
    if change <= -STEADY_BAND:
        return "utter_roleplay_verdict_dip"
    return "utter_roleplay_verdict_steady"
