"""The bot's lines for an exercise, checked at load against the placeholders each one may use.

A text that names a placeholder the action never fills (or is missing altogether) must fail
when the content loads, naming the file and key, not in the middle of someone's exercise.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.content import ContentError, require_mapping, require_text

# A spec maps each text key to the placeholders it may use, or to a nested spec.
TextSpec = Mapping[str, "frozenset[str] | TextSpec"]


def _placeholders(template: str, path: Path | str, key: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ContentError(path, key, f"has a broken placeholder ({error})") from None
    names = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ContentError(path, key, f"placeholder {{{name}}} must be a plain name")
        names.add(name)
    return names


def check_texts(raw: Any, spec: TextSpec, path: Path | str, prefix: str = "texts") -> dict:
    """Validate ``raw`` against ``spec`` and return it as plain nested dicts of strings."""
    mapping = require_mapping(raw, path, prefix)
    checked: dict[str, Any] = {}
    for key, allowed in spec.items():
        full = f"{prefix}.{key}"
        if key not in mapping:
            raise ContentError(path, full, "missing")
        if isinstance(allowed, Mapping):
            checked[key] = check_texts(mapping[key], allowed, path, full)
            continue
        text = require_text(mapping[key], path, full).strip()
        unknown = _placeholders(text, path, full) - allowed
        if unknown:
            names = ", ".join(sorted(unknown))
            raise ContentError(path, full, f"uses unknown placeholder(s): {names}")
        checked[key] = text
    return checked


class Texts:
    """Checked texts of one exercise; ``get`` fills the placeholders."""

    def __init__(self, texts: Mapping[str, Any]) -> None:
        self._texts = dict(texts)

    def get(self, key: str, **fields: Any) -> str:
        """The text at ``key`` (dots reach into nested groups) with its placeholders filled."""
        node: Any = self._texts
        for part in key.split("."):
            node = node[part]
        return node.format(**fields) if fields else node.replace("{{", "{").replace("}}", "}")
