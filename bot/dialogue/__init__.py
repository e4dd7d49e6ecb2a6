"""The form kit: one way to build an exercise. Every skill (values, voice check, reflection, wise
mind, boundary scripts, role-play) is written with it; a new one should be too. A walk-through
with a whole example is in ``docs/adding-an-exercise.md``.

An exercise is a Rasa form whose questions are asked and checked by custom actions::

    from bot import dialogue as kit

    SAFETY_PLAN = kit.Skill(                                # words: data/safety_plan/texts.yml
        "safety_plan", plan.texts, form="safety_plan_form", slots=("sp_signs", "sp_calm")
    )

    # Clears the slots, forgets a pause, says "intro":
    ActionStartSafetyPlan = kit.start_action(SAFETY_PLAN, "action_start_safety_plan")

    class _Ask(kit.AskSlot):                                # action_ask_<slot>
        skill = SAFETY_PLAN

    class ActionAskSpSigns(_Ask):
        slot = "sp_signs"                                   # asks the text "ask.sp_signs"

    class ValidateSafetyPlanForm(kit.ExerciseValidator):    # validate_<form>
        skill, form = SAFETY_PLAN, "safety_plan_form"

        def validate_sp_signs(self, answer: kit.Answer) -> dict[str, Any]:
            if not answer.text:
                answer.hint("hints.signs_empty")            # says what to do; asks again
                return {"sp_signs": None}
            return {"sp_signs": answer.text}

What the kit does so that a skill does not have to (:mod:`bot.dialogue.forms`):

- a validator method sees only real answers: a slot cleared by an action, a value the form
  re-validates on resume, "let's continue" and a button of something else ("finish this first")
  never reach it; nor does a clear typed request for something else ("can you export my data",
  "are you a bot?"), which is named back with "Pause this exercise" and "Carry on here"
  (the skill's ``start_intent`` and ``own_intents`` stay answers; ``hears_requests = False`` for a form
  whose every message is an answer, like the role-play's replies);
- ``answer.hint(key)`` says the hint with the question's buttons, and the ask action then stays
  quiet instead of repeating the question under it; ``answer.say(text)`` is a message that is
  not a hint (the question follows in full);
- ``answer.rating()`` reads a 0-10 rating ("7", "seven", "7/10") and gives the right hint for
  "eleven", "6 or 7", "6.5" or "a lot" (:mod:`bot.dialogue.ratings`);
- ``kit.Skill`` ties the classes to the skill's words, loaded by the one text loader
  (:class:`bot.dialogue.texts.TextBook`: placeholders checked, button titles within
  ``BUTTON_TITLE_MAX``, errors that name the file and the key); every skill's ``texts.yml`` has
  the kit's ``hints.finish_this_first`` (and the rating hints, if it asks for ratings);
- :mod:`bot.dialogue.turns` reads a turn (``latest_text``, ``latest_intent``, ``answer_text``)
  and builds buttons (``payload``, ``answer_button``).

What stays with the skill: the domain (form, slots with ``from_text`` mappings guarded against
crisis, "stop" and "why?" intents, ``action_ask_<slot>`` and ``validate_<form>`` listed), the
rules that start, pause, resume and end the form, the content and its pure logic in
``bot/exercises/``, and what happens at the end (a save action).
"""

from typing import Any

__all__ = [
    "Answer",
    "AskSlot",
    "ExerciseValidator",
    "Skill",
    "SkillAction",
    "StartExercise",
    "ask_actions",
    "start_action",
    "ExplainQuestion",
    "explain_question",
    "long_date",
]


def __getattr__(name: str) -> Any:
    # The form classes need rasa-sdk: load them when a skill asks, not when the pure modules
    # (texts, ratings) are imported, so content loaders stay free of it.
    if name in __all__:
        from bot.dialogue import forms

        return getattr(forms, name)
    raise AttributeError(f"module 'bot.dialogue' has no attribute {name!r}")
