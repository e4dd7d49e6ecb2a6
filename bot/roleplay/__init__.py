"""Role-play practice for saying no: the reply assessor, the scenarios and the engine.

The public API, for the Rasa actions in ``actions/roleplay.py``::

    from bot import roleplay
    roleplay.assess("no i cant do it").label                  # "assertive"
    state, opening = roleplay.start("cover_shift", "firm")
    turn = roleplay.respond(state, "No, I can't this Saturday.")
    again = roleplay.retry(turn.state)                        # try that turn again
    roleplay.debrief(turn.state).lines

Nothing here loads spaCy or reads YAML at import time: that happens on first use.
"""

from bot.roleplay.assessor import FEATURES, LABELS, Assessment, assess
from bot.roleplay.content import ContentError
from bot.roleplay.engine import (
    Debrief,
    Turn,
    debrief,
    last_words,
    list_difficulties,
    list_scenarios,
    respond,
    retry,
    start,
    start_script,
    stop,
    surprise,
)
from bot.roleplay.scenarios import Difficulty, Move, Scenario, scenario_from_script

__all__ = [
    "FEATURES",
    "LABELS",
    "Assessment",
    "ContentError",
    "Debrief",
    "Difficulty",
    "Move",
    "Scenario",
    "Turn",
    "assess",
    "debrief",
    "last_words",
    "list_difficulties",
    "list_scenarios",
    "respond",
    "retry",
    "scenario_from_script",
    "start",
    "start_script",
    "stop",
    "surprise",
]
