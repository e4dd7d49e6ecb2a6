"""What a reply to the persona means besides its words: a crisis, "stop", or "try that again";
and loading the assessor in the background before a practice starts.

Used by the role-play form's validator (``actions/roleplay.py``); no Rasa here.
"""

from __future__ import annotations

import logging
import threading

from bot.roleplay.assessor import assess

logger = logging.getLogger(__name__)

STOP_INTENT = "stop_exercise"
RETRY_INTENT = "retry_roleplay_turn"


def signals_crisis(text: str) -> bool:
    """The rule-based crisis detector's verdict (the floor under DIET's crisis intent)."""
    from bot import safety  # loads its patterns on first use, not at import

    return safety.detect(text).is_crisis


def says_stop(intent: str | None, text: str) -> bool:
    """ "stop", "pause", "I'm done with this": the end of the practice, not a reply.

    NLU's stop_exercise also takes soft refusals ("not now", "not this time") that are exactly
    what the practice is for, so a message that carries a no or a maybe stays a reply.
    """
    if intent != STOP_INTENT:
        return False
    features = assess(text).features
    return not (features["clear_no"] or features["hedge"])


def asks_retry(intent: str | None, text: str) -> bool:
    """ "Try that again": the button, the typed words the coach suggests, or the intent.

    The intent alone is not enough: "No. Try again next year." is said to the persona, so a
    message that carries a no, a maybe, a yes or a jab stays a reply (as with "stop").
    """
    from bot.roleplay.coaching import coaching

    if text.strip() == f"/{RETRY_INTENT}" or coaching().asks_retry(text):
        return True
    if intent != RETRY_INTENT:
        return False
    features = assess(text).features
    return not any(features[name] for name in ("clear_no", "hedge", "gives_in", "hostile"))


# Loading the assessor's spaCy pipeline takes seconds (TensorFlow comes along): start it in the
# background when a practice is about to begin, so the first reply is not kept waiting.
_warm_up_lock = threading.Lock()
_warm_up_thread: threading.Thread | None = None


def _load_assessor() -> None:
    try:
        assess("no")
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


def wait_for_warm_up() -> None:
    thread = _warm_up_thread
    if thread is not None:
        thread.join()
