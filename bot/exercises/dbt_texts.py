"""The bot's words for the DBT exercises, loaded from YAML and checked before anyone sees them.

Texts said only by actions live in content files rather than domain responses: Rasa's
validator flags every response that no rule or story mentions, and form questions are asked by
actions. Each text's {placeholders} are checked at load, so a typo fails at start-up with the
file and the key instead of a KeyError in the middle of someone's exercise.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.content import ContentError, load_yaml, require_mapping, require_text

BUTTON_TITLE_MAX = 30  # Telegram and phones cut longer titles


def placeholders(template: str) -> frozenset[str]:
    """The names of the {fields} in a template (positional fields are not allowed)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(template):
        if field is not None:
            names.add(field)
    return frozenset(names)


class TextBook:
    """Texts of one content file, looked up by dotted key ("ask.wm_note")."""

    def __init__(self, path: Path | str, texts: Mapping[str, str]) -> None:
        self.path = str(path)
        self._texts = dict(texts)

    @classmethod
    def load(cls, path: Path | str, spec: Mapping[str, frozenset[str]]) -> TextBook:
        """Read ``path`` and check that every key of ``spec`` is a text with exactly its fields.

        Keys under ``buttons.`` are button titles: without their fields they must fit in
        ``BUTTON_TITLE_MAX`` characters (callers shorten what they put into the fields).
        """
        tree = require_mapping(load_yaml(path), path, "")
        texts: dict[str, str] = {}
        for key, fields in spec.items():
            value: Any = tree
            walked = []
            for part in key.split("."):
                walked.append(part)
                value = require_mapping(value, path, ".".join(walked[:-1]) or part).get(part)
                if value is None:
                    raise ContentError(path, ".".join(walked), "missing")
            text = require_text(value, path, key)
            try:
                found = placeholders(text)
            except ValueError as error:
                raise ContentError(path, key, f"bad placeholder ({error})") from None
            if "" in found:
                raise ContentError(path, key, "use named placeholders like {title}, not {}")
            if found != fields:
                expected = ", ".join(sorted(fields)) or "none"
                raise ContentError(path, key, f"placeholders must be exactly: {expected}")
            if key.startswith("buttons.") and len(_without_fields(text)) > BUTTON_TITLE_MAX:
                raise ContentError(
                    path, key, f"button title is longer than {BUTTON_TITLE_MAX} characters"
                )
            texts[key] = text
        return cls(path, texts)

    def text(self, key: str, **fields: Any) -> str:
        """The text for ``key`` with its fields filled in."""
        return self._texts[key].format(**fields)

    def button(self, key: str, payload: str, **fields: Any) -> dict[str, str]:
        """A button whose title comes from ``buttons.<key>``."""
        return {"title": self.text(f"buttons.{key}", **fields), "payload": payload}


def _without_fields(template: str) -> str:
    return "".join(literal for literal, *_ in string.Formatter().parse(template))


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters, marking the cut with …."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"
