"""The form machinery every exercise uses: a validator base, an ask-action base, a start-action
base and the "why are you asking?" answer. See :mod:`bot.dialogue` for how to write a skill.

The traps are handled here, once, for every form:

- **Re-validation.** On resume (and after an action clears slots) rasa-sdk hands the validator
  every slot set at the end of the tracker. Only the slot the form asked for
  (``requested_slot``) is an answer; every other candidate, a cleared one (None) and a
  validator's own earlier result (a flag or a number: answers arrive as text) pass through
  unchanged and unannounced. A slot the start message may fill (``prefilled_slots``: a
  button's entities) is validated whenever it comes.
- **"Let's continue"** (``resume_exercise``) while the form is running is not an answer: the
  question is asked again, in full (a skill may list slots where it is one:
  ``continue_answers``).
- **A stray button** of another intent ("/start_roleplay" tapped mid-exercise) is not stored as
  an answer: the user is asked to finish this first (the skill's ``hints.finish_this_first``).
- **A request for something else**, typed and read by the NLU with at least
  ``REQUEST_CONFIDENCE`` as one of ``REQUEST_INTENTS``, is heard as that request: named back,
  with "Pause this exercise" and "Carry on here", never stored (``own_intents``,
  ``hears_requests``).
- **Asking again.** A rejected answer gets a hint (:meth:`Answer.hint`) that carries
  the question's buttons; the form then asks the slot again and the ask action stays quiet, so
  the question is not repeated under the hint. After a "why?", a resume or an accepted answer
  that asks for more, the question is asked in full.
"""

from __future__ import annotations

import functools
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.dialogue.ratings import RatingReading, rating_hint_key, read_rating
from bot.dialogue.texts import REQUEST_INTENTS, TextBook, kit_texts
from bot.dialogue.turns import (
    ANSWER_INTENT,
    REQUESTED_SLOT,
    answer_text,
    fresh_start_events,
    hint_already_given,
    is_other_payload,
    latest_intent,
    latest_text,
    payload,
)

# The slot that marks "the validator has just given a hint for this slot" (domain/_shared.yml).
HINT_SLOT = "form_hint"
# "let's continue" while the form is running is not an answer: the question is asked again.
RESUME_INTENT = "resume_exercise"
NOT_ANSWERS = frozenset({RESUME_INTENT})
# "stop" pauses the running exercise (every skill's rules).
PAUSE_INTENT = "stop_exercise"
# How sure the NLU must be before a typed message mid-exercise is taken as a request for
# something else rather than an answer (an answer wrongly taken loses nothing: it is offered back).
REQUEST_CONFIDENCE = 0.9
Validator = Callable[..., dict[str, Any]]
KitValidator = Callable[["ExerciseValidator", "Answer"], dict[str, Any]]
# The ask action of each slot, by slot name (slot names are unique across the domain's forms).
_ASKS: dict[str, type[AskSlot]] = {}


def long_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


@dataclass(frozen=True)
class Skill:
    """What the kit's classes of one exercise share: its words (``data/<skill>/texts.yml``),
    its form and the slots a fresh start clears."""

    name: str
    texts: Callable[[], TextBook]
    form: str = ""
    slots: tuple[str, ...] = ()
    # The intent that starts it: typed mid-exercise, it is an answer, not a request.
    start_intent: str = ""


class SkillAction(Action, ABC):
    """An action of a skill: set ``action_name`` (and ``skill``, for its words)."""

    skill: ClassVar[Skill]

    @property
    @abstractmethod
    def action_name(self) -> str:
        """The action's name in the domain."""

    def name(self) -> str:
        return self.action_name

    def texts(self) -> TextBook:
        return self.skill.texts()

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """What the action does (rasa-sdk's ``run`` without the domain, which none needs)."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return self.act(dispatcher, tracker)


class Answer:
    """One answer to a form's question, as a validator reads it: ``validate_<slot>(self,
    answer)`` returns ``{slot: value}`` to accept it, ``{slot: None}`` to ask again."""

    def __init__(
        self,
        validator: ExerciseValidator,
        slot: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> None:
        self.validator = validator
        self.slot = slot
        self.value = value  # the slot's candidate (the text, or a button's entity)
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.hinted = False

    @property
    def text(self) -> str | None:
        """The answer as text, or None for a payload or a non-text value."""
        return answer_text(self.value)

    @property
    def latest(self) -> str:
        """The whole latest message, as typed."""
        return latest_text(self.tracker)

    @property
    def intent(self) -> str | None:
        return latest_intent(self.tracker)

    def slot_value(self, name: str) -> Any:
        """Another slot of the form, as it is now."""
        return self.tracker.get_slot(name)

    def say(self, text: str, buttons: list[dict[str, str]] | None = None) -> None:
        """A message that is not a hint (the question then follows in full)."""
        self.dispatcher.utter_message(text=text, buttons=buttons or [])

    def hint(self, key: str, buttons: list[dict[str, str]] | None = None, **fields: Any) -> None:
        """Says what to do instead (the text at ``key``), with the question's buttons unless
        ``buttons`` are given; the question itself is then not repeated."""
        if buttons is None:
            buttons = question_buttons(self.tracker)
        self.hint_text(self.validator.texts().text(key, **fields), buttons)

    def hint_text(self, text: str, buttons: list[dict[str, str]]) -> None:
        """A hint already worded (the kit's own), with its buttons."""
        self.dispatcher.utter_message(text=text, buttons=buttons)
        self.hinted = True

    def rating(self) -> int | None:
        """A whole number from 0 to 10, or None after the hint that says what was wrong."""
        reading: RatingReading = read_rating(self.text or "")
        if reading.value is None:
            fields = {"number": reading.number} if reading.number is not None else {}
            self.hint(rating_hint_key(reading), **fields)
        return reading.value


def _offer_pause(answer: Answer, intent: str) -> None:
    """A clear request for something else mid-exercise is heard as that request: named back,
    with a button that pauses the exercise and one that carries on (the question, in full)."""
    texts = kit_texts()
    request = texts.text(f"requests.{intent}")
    buttons = [
        texts.button("pause", payload(PAUSE_INTENT)),
        texts.button("carry_on", payload(RESUME_INTENT)),
    ]
    answer.hint_text(texts.text("request_heard", request=request), buttons)


def _settled(slot_value: Any) -> bool:
    """True for a candidate that is not an answer: cleared (None), or a validator's own earlier
    result (typed and button answers always arrive as text, so a flag or a number is ours)."""
    return slot_value is None or isinstance(slot_value, bool | int)


def _guarded(slot: str, validate: KitValidator) -> Validator:
    """``validate`` behind the kit's checks (see the module docstring)."""

    @functools.wraps(validate)
    def wrapper(
        self: ExerciseValidator,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if _settled(slot_value):
            return {slot: slot_value}
        if tracker.get_slot(REQUESTED_SLOT) != slot:
            if slot in self.prefilled_slots:  # filled by the message that started the form
                return validate(self, Answer(self, slot, slot_value, dispatcher, tracker))
            return {slot: slot_value}
        intent = latest_intent(tracker)
        if intent in NOT_ANSWERS and slot not in self.continue_answers:
            return {slot: None}  # said nothing: the question comes in full
        answer = Answer(self, slot, slot_value, dispatcher, tracker)
        if is_other_payload(latest_text(tracker), intent, self.answer_intents):
            answer.hint("hints.finish_this_first")
            result = {slot: None}
        elif self._is_request(tracker, intent):
            _offer_pause(answer, intent)
            result = {slot: None}
        else:
            result = validate(self, answer)
        if answer.hinted:
            return {**result, HINT_SLOT: slot}
        # An earlier hint is over: this answer is asked about in full again.
        return {**result, HINT_SLOT: None} if tracker.get_slot(HINT_SLOT) else result

    wrapper.kit_guarded = True  # type: ignore[attr-defined]
    return wrapper


class ExerciseValidator(FormValidationAction, ABC):
    """The validator of an exercise form: write ``validate_<slot>(self, answer: Answer)``
    methods; the kit calls them only for real answers (module docstring), and rasa-sdk sees
    them with its own signature.

    Return ``{slot: value}`` to accept, ``{slot: None}`` to ask again (after ``answer.hint``).
    """

    # Intents whose buttons answer this form's questions; other payloads are stray.
    answer_intents: ClassVar[frozenset[str]] = frozenset({ANSWER_INTENT})
    # Slots where "let's continue" is an answer (a practice step it moves on).
    continue_answers: ClassVar[frozenset[str]] = frozenset()
    # Slots the message that starts the form may fill (entities of a button): validated even
    # when they are not the question asked.
    prefilled_slots: ClassVar[frozenset[str]] = frozenset()
    # Typed requests for something else (REQUEST_INTENTS, read with at least this confidence)
    # are heard as requests, except the skill's start_intent and own_intents; a form whose every
    # message is an answer (the role-play's replies to the persona) sets hears_requests False.
    hears_requests: ClassVar[bool] = True
    own_intents: ClassVar[frozenset[str]] = frozenset()

    def _is_request(self, tracker: Tracker, intent: str | None) -> bool:
        own = {self.skill.start_intent, *self.own_intents}
        if not self.hears_requests or intent not in REQUEST_INTENTS or intent in own:
            return False
        confidence = (tracker.latest_message.get("intent") or {}).get("confidence") or 0.0
        return float(confidence) >= REQUEST_CONFIDENCE

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attribute, method in list(vars(cls).items()):
            if (
                attribute.startswith("validate_")
                and callable(method)
                and not getattr(method, "kit_guarded", False)
            ):
                setattr(cls, attribute, _guarded(attribute.removeprefix("validate_"), method))

    @property
    @abstractmethod
    def skill(self) -> Skill:
        """The exercise this form belongs to."""

    # The form's name in the domain when it is not the skill's (the action is validate_<form>).
    form: ClassVar[str] = ""

    def name(self) -> str:
        return f"validate_{self.form or self.skill.form}"

    def texts(self) -> TextBook:
        return self.skill.texts()

    def slots_to_ask(self, domain_slots: list[str], tracker: Tracker) -> list[str]:
        """The form's questions this time: all the domain's (``domain_slots``) unless a skill
        asks fewer (one step of a plan being edited; no note after a "no")."""
        return domain_slots

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return self.slots_to_ask(domain_slots, tracker)


class AskSlot(Action, ABC):
    """Asks one question of a form (the action ``action_ask_<slot>``).

    Set ``slot`` and ``skill`` (as an attribute, or in the class line:
    ``class ActionAskTopic(kit.AskSlot, skill=VOICE_CHECK)``); the question is the text
    ``ask.<slot>`` unless :meth:`question` says otherwise, with :meth:`buttons`. Override
    :meth:`ask` for anything more.
    """

    def __init_subclass__(cls, skill: Skill | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if skill is not None:
            cls.skill = skill
        if isinstance(vars(cls).get("slot"), str):
            _ASKS[cls.slot] = cls

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this action asks for."""

    @property
    @abstractmethod
    def skill(self) -> Skill:
        """The exercise this question belongs to."""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def texts(self) -> TextBook:
        return self.skill.texts()

    # The question's text key, when it is not ask.<slot>.
    question_key: ClassVar[str] = ""

    def question(self, tracker: Tracker) -> str:
        return self.texts().text(self.question_key or f"ask.{self.slot}")

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return []

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        dispatcher.utter_message(text=self.question(tracker), buttons=self.buttons(tracker))
        return []

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot(HINT_SLOT) == self.slot and hint_already_given(
            tracker.events, self.slot
        ):
            return []
        return self.ask(dispatcher, tracker)


def question_buttons(tracker: Tracker) -> list[dict[str, str]]:
    """The buttons of the question the form has asked (``requested_slot``), if any."""
    ask = _ASKS.get(tracker.get_slot(REQUESTED_SLOT) or "")
    return ask().buttons(tracker) if ask is not None else []


def ask_actions(skill: Skill, *slots: str) -> tuple[type[AskSlot], ...]:
    """The ask actions of plain questions: ``ask.<slot>`` without buttons, one class a slot
    (``ActionAskWmNote`` for ``wm_note``), defined in the calling skill's module."""
    module = sys._getframe(1).f_globals["__name__"]
    return tuple(
        type(
            "ActionAsk" + "".join(part.title() for part in slot.split("_")),
            (AskSlot,),
            {"slot": slot, "skill": skill, "__module__": module},
        )
        for slot in slots
    )


def start_action(
    skill: Skill, action_name: str, intro_key: str | None = "intro"
) -> type[StartExercise]:
    """The action that starts ``skill`` fresh (a :class:`StartExercise`), defined in the calling
    skill's module; ``intro_key=None`` starts without an intro."""
    module = sys._getframe(1).f_globals["__name__"]
    name = "".join(part.title() for part in action_name.split("_"))
    attributes = {"skill": skill, "action_name": action_name, "intro_key": intro_key}
    return type(name, (StartExercise,), {**attributes, "__module__": module})


class StartExercise(SkillAction):
    """Starts an exercise fresh: says its intro (``intro`` text, when ``intro_key`` is set),
    clears its skill's slots and forgets its form was paused."""

    intro_key: ClassVar[str | None] = "intro"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        if self.intro_key:
            dispatcher.utter_message(text=self.texts().text(self.intro_key))
        return fresh_start_events(tracker, self.skill.form, self.skill.slots)


class ExplainQuestion(SkillAction):
    """Answers "why are you asking this?" for the question the form has open: the skill's
    ``why.<slot>`` for the ``explained`` slots, else the general answer."""

    explained: ClassVar[tuple[str, ...]]

    def why(self, slot: str | None, tracker: Tracker) -> str | None:
        """A skill's own answer for ``slot`` (a practice step's), or None for the usual."""
        return None

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        slot = tracker.get_slot(REQUESTED_SLOT)
        own = self.why(slot, tracker)
        if own is not None:
            dispatcher.utter_message(text=own)
        else:
            explain_question(dispatcher, slot, self.explained, self.texts())
        return []


def explain_question(
    dispatcher: CollectingDispatcher, slot: str | None, explained: tuple[str, ...], texts: TextBook
) -> None:
    """Says why the question of ``slot`` is asked (``why.<slot>``); outside the ``explained``
    questions, the general answer."""
    if slot in explained:
        dispatcher.utter_message(text=texts.text(f"why.{slot}"))
    else:
        dispatcher.utter_message(response="utter_why_general")
