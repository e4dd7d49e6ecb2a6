"""Custom actions, one module per skill. rasa-sdk imports every module here when it starts.

``warm_up`` loads what the skills otherwise load on first use: spaCy and the value matcher, the
role-play assessor and every content file. Without it the first person to answer the values
exercise waited about 4 s, most of it spaCy being imported. The action server runs it in a
background thread as each of its processes starts (rasa-sdk's start-up hook, in
``rasa_sdk_plugins``), never on import. ``SECURE_BASE_WARM_UP=0`` turns it off.
"""

from __future__ import annotations

import importlib.util
import logging
import time

logger = logging.getLogger(__name__)

# The token check that keeps the action server for Rasa alone is a rasa-sdk plugin
# (rasa_sdk_plugins/). rasa-sdk silently runs without a plugin it cannot find, which would run
# every action, exports and erasure included, for anyone: fail closed instead.
if importlib.util.find_spec("rasa_sdk_plugins") is None:
    raise ImportError(
        "Secure Base's action-server token check (the rasa_sdk_plugins package) is not "
        "importable: start the action server from the repository root or install the project"
    )

WARM_UP_ENV = "SECURE_BASE_WARM_UP"


def warm_up() -> list[str]:
    """Load every cached resource of the skills; returns the names that failed (logged)."""
    from bot.exercises import (
        reflection,
        report_reply,
        safety_plan,
        scripts,
        values,
        voice_check,
        wise_mind,
    )
    from bot.progress import pictures
    from bot.roleplay import assessor, coaching
    from bot.roleplay import scenarios as roleplay_scenarios
    from bot.roleplay import texts as roleplay_texts

    loaders = [
        values.values_content,
        values.value_matcher,
        voice_check.voice_check_content,
        voice_check.source_reader,
        voice_check.effect_reader,
        reflection.reflection_content,
        reflection.answer_reader,
        wise_mind.practices,
        wise_mind.texts,
        safety_plan.texts,
        report_reply.texts,
        pictures.texts,
        scripts.phrasing,
        scripts.texts,
        roleplay_scenarios.scenarios,
        roleplay_scenarios.difficulties,
        roleplay_scenarios.persona_lines,
        coaching.coaching,
        roleplay_texts.texts,
        assessor.get_assessor,
    ]
    failed = []
    started = time.perf_counter()
    for load in loaders:
        name = f"{load.__module__}.{load.__name__}"
        try:
            load()
        except Exception as error:  # the skill reports it again, to the user, on first use
            logger.warning("warm-up: %s failed (%s: %s)", name, type(error).__name__, error)
            failed.append(name)
    logger.info("warm-up done in %.1f s", time.perf_counter() - started)
    return failed
