"""Crisis safety floor: detection of crisis messages and the static crisis resources.

A leaf package: it imports nothing of the project but the single-file leaf modules of ``bot/``
(``bot.spacy_pipeline``, ``bot.encoder``, ``bot.text_features``, ``bot.database``). Channels call
``detect`` on the raw text before anything else and ``crisis_messages`` to show resources; the
NLU component ``bot.nlu.crisis_detector.CrisisIntentOverride`` uses the same detector.
``bot.safety.counter`` counts crisis events (no text) and is imported on its own (SQLAlchemy,
through ``bot.database``).
"""

from bot.safety.detector import TIER_CHECK_IN, TIER_FULL, CrisisDetector, CrisisResult, detect
from bot.safety.resources import crisis_messages, is_resource_text, regions

__all__ = [
    "TIER_CHECK_IN",
    "TIER_FULL",
    "CrisisDetector",
    "CrisisResult",
    "crisis_messages",
    "detect",
    "is_resource_text",
    "regions",
]
