""" "Whose voice is this?": where a choice came from, how it would feel without that voice, and
which of the user's own values it serves or crowds out.

The journal has no place for voice checks yet, so nothing of this exercise is stored; it reads
the user's saved values (when there are any) to offer them as buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.values import (
    answer_button,
    answer_text,
    answers_only,
    fresh_start_events,
    saved_values,
)
from bot.exercises.values import value_matcher, values_content
from bot.exercises.voice_check import (
    TOPIC_MAX_CHARS,
    ChoiceReader,
    effect_reader,
    quote,
    reflection_text,
    source_reader,
    voice_check_content,
)

FORM = "voice_check_form"
VOICE_SLOTS = ("voice_topic", "voice_source", "voice_without", "voice_value", "voice_effect")
# Saved values offered as buttons: enough to recognise one's own, few enough for a phone.
MAX_VALUE_BUTTONS = 6


def _topic(tracker: Tracker) -> str:
    return quote(tracker.get_slot("voice_topic") or "")


class ActionStartVoiceCheck(Action):
    """Starts the check fresh and says what it is (and what it is not)."""

    def name(self) -> str:
        return "action_start_voice_check"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=voice_check_content().texts.get("intro"))
        return fresh_start_events(tracker, FORM, VOICE_SLOTS)


class ActionAskVoiceTopic(Action):
    def name(self) -> str:
        return "action_ask_voice_topic"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=voice_check_content().texts.get("ask_topic"))
        return []


class ActionAskVoiceSource(Action):
    def name(self) -> str:
        return "action_ask_voice_source"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        content = voice_check_content()
        dispatcher.utter_message(
            text=content.texts.get("ask_source", topic=_topic(tracker)),
            buttons=[answer_button(source.label, source.key) for source in content.sources],
        )
        return []


class ActionAskVoiceWithout(Action):
    """Asks how the choice would feel if its source had never mentioned it."""

    def name(self) -> str:
        return "action_ask_voice_without"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        content = voice_check_content()
        source = tracker.get_slot("voice_source")
        if source not in {s.key for s in content.sources}:
            source = "unsure"
        dispatcher.utter_message(
            text=content.texts.get(f"ask_without.{source}", topic=_topic(tracker))
        )
        return []


class ActionAskVoiceValue(Action):
    """Offers the user's saved values as buttons, or asks them to type one."""

    def name(self) -> str:
        return "action_ask_voice_value"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        texts = voice_check_content().texts
        names: list[str] = []
        # Unreachable journal or nothing saved: the typed question works just as well.
        for view in saved_values(tracker) or []:
            if view.value not in names:
                names.append(view.value)
        if names:
            dispatcher.utter_message(
                text=texts.get("ask_value_saved"),
                buttons=[answer_button(name, name) for name in names[:MAX_VALUE_BUTTONS]],
            )
        else:
            dispatcher.utter_message(text=texts.get("ask_value_typed"))
        return []


class ActionAskVoiceEffect(Action):
    def name(self) -> str:
        return "action_ask_voice_effect"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        content = voice_check_content()
        dispatcher.utter_message(
            text=content.texts.get(
                "ask_effect", topic=_topic(tracker), value=tracker.get_slot("voice_value") or ""
            ),
            buttons=[answer_button(effect.label, effect.key) for effect in content.effects],
        )
        return []


def _has_words(text: str | None) -> bool:
    return bool(text) and any(ch.isalpha() for ch in text)


def _ask_again(dispatcher: CollectingDispatcher, hint: str, slot: str) -> dict[str, Any]:
    dispatcher.utter_message(text=voice_check_content().texts.get(hint))
    return {slot: None}


def _words(
    slot: str, slot_value: Any, dispatcher: CollectingDispatcher, hint: str
) -> dict[str, Any]:
    """An answer in the user's own words, kept with its spacing tidied."""
    text = answer_text(slot_value)
    if not _has_words(text):
        return _ask_again(dispatcher, hint, slot)
    return {slot: " ".join(text.split())}


def _choice(
    slot: str,
    slot_value: Any,
    dispatcher: CollectingDispatcher,
    reader: Callable[[], ChoiceReader],
    hint: str,
) -> dict[str, Any]:
    """The key of the choice the answer names; None (with the hint) asks again."""
    text = answer_text(slot_value)
    choice = reader().read(text) if text else None
    if choice is None:
        return _ask_again(dispatcher, hint, slot)
    return {slot: choice}


class ValidateVoiceCheckForm(FormValidationAction):
    """Reads each answer of the voice check; returning a slot as None asks its question again."""

    def name(self) -> str:
        return "validate_voice_check_form"

    @answers_only
    def validate_voice_topic(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = answer_text(slot_value)
        if _has_words(text) and len(text) > TOPIC_MAX_CHARS:
            return _ask_again(dispatcher, "hint_topic_long", "voice_topic")
        return _words("voice_topic", slot_value, dispatcher, "hint_topic")

    @answers_only
    def validate_voice_source(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        # No source, or two equally likely ones: ask again with the buttons.
        return _choice("voice_source", slot_value, dispatcher, source_reader, "hint_source")

    @answers_only
    def validate_voice_without(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return _words("voice_without", slot_value, dispatcher, "hint_without")

    @answers_only
    def validate_voice_value(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = answer_text(slot_value)
        reading = value_matcher().read(text) if text else None
        if reading and reading.known:
            return {"voice_value": values_content().name(reading.known[0])}
        if reading and reading.own:
            return {"voice_value": reading.own[0]}
        # Nothing that reads as a value (or a whole sentence): ask for a word or two.
        return _ask_again(dispatcher, "hint_value", "voice_value")

    @answers_only
    def validate_voice_effect(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return _choice("voice_effect", slot_value, dispatcher, effect_reader, "hint_effect")


class ActionReflectVoiceCheck(Action):
    """A short reflection built from the answers, then an offer of two next steps."""

    def name(self) -> str:
        return "action_reflect_voice_check"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        content = voice_check_content()
        source = tracker.get_slot("voice_source") or "unsure"
        effect = tracker.get_slot("voice_effect") or "unsure"
        dispatcher.utter_message(
            text=reflection_text(
                content,
                source=source if source in {s.key for s in content.sources} else "unsure",
                without=tracker.get_slot("voice_without") or "",
                value=tracker.get_slot("voice_value") or "",
                effect=effect if effect in {e.key for e in content.effects} else "unsure",
            )
        )
        texts = content.texts
        dispatcher.utter_message(
            text=texts.get("offer"),
            buttons=[
                {"title": texts.get("button_values"), "payload": "/start_values_exercise"},
                {"title": texts.get("button_wise_mind"), "payload": "/start_wise_mind"},
            ],
        )
        return []
