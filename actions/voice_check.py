""" "Whose voice is this?": where a choice came from, how it would feel without that voice, and
which of the user's own values it serves or crowds out.

The journal has no place for voice checks yet, so nothing of this exercise is stored; it reads
the user's saved values (when there are any) to offer them as buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.nudge import OffersNudge
from actions.values import saved_values
from bot import dialogue as kit
from bot.dialogue.turns import answer_button
from bot.exercises.values import value_matcher, values_content
from bot.exercises.voice_check import (
    TOPIC_MAX_CHARS,
    ChoiceReader,
    effect_reader,
    quote,
    reflection_text,
    source_reader,
    texts,
    voice_check_content,
)

FORM = "voice_check_form"
VOICE_SLOTS = ("voice_topic", "voice_source", "voice_without", "voice_value", "voice_effect")
# Saved values offered as buttons: enough to recognise one's own, few enough for a phone.
MAX_VALUE_BUTTONS = 6


def _topic(tracker: Tracker) -> str:
    return quote(tracker.get_slot("voice_topic") or "")


VOICE_CHECK = kit.Skill(
    "voice_check", texts, form=FORM, slots=VOICE_SLOTS, start_intent="start_voice_check"
)


ActionStartVoiceCheck = kit.start_action(VOICE_CHECK, "action_start_voice_check")


class ActionAskVoiceTopic(kit.AskSlot, skill=VOICE_CHECK):
    slot = "voice_topic"
    question_key = "ask_topic"


class ActionAskVoiceSource(kit.AskSlot, skill=VOICE_CHECK):
    slot = "voice_source"

    def question(self, tracker: Tracker) -> str:
        return self.texts().text("ask_source", topic=_topic(tracker))

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(s.label, s.key) for s in voice_check_content().sources]


class ActionAskVoiceWithout(kit.AskSlot, skill=VOICE_CHECK):
    """Asks how the choice would feel if its source had never mentioned it."""

    slot = "voice_without"

    def question(self, tracker: Tracker) -> str:
        source = tracker.get_slot("voice_source")
        if source not in {s.key for s in voice_check_content().sources}:
            source = "unsure"
        return self.texts().text(f"ask_without.{source}", topic=_topic(tracker))


def _saved_value_names(tracker: Tracker) -> list[str]:
    names: list[str] = []
    # Unreachable journal or nothing saved: the typed question works just as well.
    for view in saved_values(tracker) or []:
        if view.value not in names:
            names.append(view.value)
    return names[:MAX_VALUE_BUTTONS]


class ActionAskVoiceValue(kit.AskSlot, skill=VOICE_CHECK):
    """Offers the user's saved values as buttons, or asks them to type one."""

    slot = "voice_value"

    def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        buttons = self.buttons(tracker)
        key = "ask_value_saved" if buttons else "ask_value_typed"
        dispatcher.utter_message(text=self.texts().text(key), buttons=buttons)
        return []

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(name, name) for name in _saved_value_names(tracker)]


class ActionAskVoiceEffect(kit.AskSlot, skill=VOICE_CHECK):
    slot = "voice_effect"

    def question(self, tracker: Tracker) -> str:
        value = tracker.get_slot("voice_value") or ""
        return self.texts().text("ask_effect", topic=_topic(tracker), value=value)

    def buttons(self, tracker: Tracker) -> list[dict[str, str]]:
        return [answer_button(e.label, e.key) for e in voice_check_content().effects]


def _has_words(text: str | None) -> bool:
    return bool(text) and any(ch.isalpha() for ch in text)


class ValidateVoiceCheckForm(kit.ExerciseValidator):
    """Reads each answer of the voice check; returning a slot as None asks its question again."""

    skill = VOICE_CHECK

    @staticmethod
    def _ask_again(answer: kit.Answer, hint: str | None = None) -> dict[str, Any]:
        """The hint (``hint_<question>`` unless named), and the question stays open."""
        answer.hint(hint or f"hint_{answer.slot.removeprefix('voice_')}")
        return {answer.slot: None}

    def _words(self, answer: kit.Answer) -> dict[str, Any]:
        """An answer in the user's own words, kept with its spacing tidied."""
        text = answer.text
        if not _has_words(text):
            return self._ask_again(answer)
        return {answer.slot: " ".join(text.split())}

    def _choice(self, answer: kit.Answer, reader: Callable[[], ChoiceReader]) -> dict[str, Any]:
        """The key of the choice the answer names; None (with the hint) asks again."""
        choice = reader().read(answer.text) if answer.text else None
        return {answer.slot: choice} if choice is not None else self._ask_again(answer)

    def validate_voice_topic(self, answer: kit.Answer) -> dict[str, Any]:
        text = answer.text
        if _has_words(text) and len(text) > TOPIC_MAX_CHARS:
            return self._ask_again(answer, "hint_topic_long")
        return self._words(answer)

    def validate_voice_source(self, answer: kit.Answer) -> dict[str, Any]:
        # No source, or two equally likely ones: ask again with the buttons.
        return self._choice(answer, source_reader)

    def validate_voice_without(self, answer: kit.Answer) -> dict[str, Any]:
        return self._words(answer)

    def validate_voice_value(self, answer: kit.Answer) -> dict[str, Any]:
        text = answer.text
        reading = value_matcher().read(text) if text else None
        if reading and reading.known:
            return {"voice_value": values_content().name(reading.known[0])}
        if reading and reading.own:
            return {"voice_value": reading.own[0]}
        # Nothing that reads as a value (or a whole sentence): ask for a word or two.
        return self._ask_again(answer)

    def validate_voice_effect(self, answer: kit.Answer) -> dict[str, Any]:
        return self._choice(answer, effect_reader)


class ActionReflectVoiceCheck(OffersNudge, kit.SkillAction):
    """A short reflection built from the answers, then an offer of two next steps."""

    action_name = "action_reflect_voice_check"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
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
            text=texts.text("offer"),
            buttons=[
                {"title": texts.text("button_values"), "payload": "/start_values_exercise"},
                {"title": texts.text("button_wise_mind"), "payload": "/start_wise_mind"},
            ],
        )
        return []
