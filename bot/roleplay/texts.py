"""What the role-play says around the practice: ``data/roleplay/texts.yml``, checked at load by
the one text loader (:mod:`bot.dialogue.texts`)."""

from __future__ import annotations

import functools
from pathlib import Path

from bot.content import DATA_DIR
from bot.dialogue.texts import TextBook, plain

TEXTS_FILE = DATA_DIR / "roleplay" / "texts.yml"

_NONE: frozenset[str] = frozenset()
TEXT_SPEC = {
    "ask": {
        **plain("roleplay_scenario", "roleplay_scenario_matches"),
        "roleplay_difficulty": frozenset({"levels"}),
        "roleplay_reply_back": _NONE,
    },
    "hints": {"scenario_unclear": _NONE, "difficulty_unclear": _NONE, "reply_too_long": _NONE},
    "lost": _NONE,
    "debrief": frozenset({"debrief"}),
    **plain("saved", "next"),
    "script": {"pick": _NONE, "missing": _NONE, "none": _NONE, "own": _NONE},
    "progress": {
        "none": _NONE,
        "sessions": frozenset({"total", "sessions"}),
        "session_line": frozenset({"date", "title", "difficulty", "clear_no", "replies"}),
        "trend": frozenset({"recent", "earlier", "lines"}),
        "trend_line": frozenset({"feature", "now", "before"}),
        "so_far": frozenset({"lines"}),
        "so_far_line": frozenset({"feature", "now"}),
        "verdict": {"clearer": _NONE, "steady": _NONE, "dip": _NONE},
    },
    "features": {
        name: _NONE for name in ("clear_no", "apology", "over_justification", "hedge", "hostile")
    },
    "buttons": {
        name: _NONE
        for name in (
            "start",
            "write_script",
            "practise_scenario",
            "again",
            "retry",
            "harder",
            "progress",
            "more",
            "surprise",
        )
    },
}


def load_texts(path: Path | str = TEXTS_FILE) -> TextBook:
    """Read and check the role-play's texts (errors name the file and the key)."""
    return TextBook.for_skill(path, TEXT_SPEC)


@functools.lru_cache(maxsize=1)
def texts() -> TextBook:
    """The texts from the default file, read once per process."""
    return load_texts()
