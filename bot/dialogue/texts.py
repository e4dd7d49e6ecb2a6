"""The one way a skill's words are loaded: ``data/<skill>/texts.yml``, checked before anyone
sees them.

Every exercise keeps what its actions say in its own ``texts.yml``; domain responses stay for
what Rasa utters itself (rules, stories). A skill declares a *spec*: each text's key (dots reach
into nested groups, "ask.wm_note") with the placeholders its action fills in. At load:

- a key that is missing, or not text, fails;
- a text may use any of its placeholders, but a placeholder the action never fills fails, and
  so do positional ("{}") and formatted ("{x:>3}") ones;
- a button title (a key under ``buttons.`` or starting with ``button_``) must fit
  ``BUTTON_TITLE_MAX`` characters without its placeholders.

Every failure is a :class:`bot.content.ContentError` naming the file and the key, so a typo stops
the action server at start-up instead of someone's exercise in the middle.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bot.content import DATA_DIR, ContentError, load_yaml, require_mapping, require_text

# Telegram and most phones cut longer button titles; the channels send them as they are.
BUTTON_TITLE_MAX = 30

# What the form kit says in every exercise (bot.dialogue.forms): each skill's texts.yml has it.
KIT_TEXT_SPEC = {"hints": {"finish_this_first": frozenset()}}
# The hints of the kit's rating reader, in the texts of every skill that asks for a 0-10 rating.
RATING_TEXT_SPEC = {
    "hints": {
        "rating_out_of_range": frozenset({"number"}),
        "rating_missing": frozenset(),
        "rating_several": frozenset(),
        "rating_fraction": frozenset(),
    }
}

# A spec maps each text's key to the placeholders it may use; a nested mapping is a group of
# texts ({"ask": {"topic": frozenset()}} is the same as {"ask.topic": frozenset()}).
TextSpec = Mapping[str, "frozenset[str] | TextSpec"]


def plain(*keys: str) -> dict[str, frozenset[str]]:
    """Spec entries for texts without placeholders."""
    return using((), *keys)


def using(fields: Iterable[str], *keys: str) -> dict[str, frozenset[str]]:
    """Spec entries for texts that may all use the same placeholders
    (``using({"limit"}, "too_long", "too_many")``)."""
    return dict.fromkeys(keys, frozenset(fields))


# What the kit says when a message mid-exercise is a clear request for something else
# (data/dialogue/texts.yml): ``requests.<intent>`` names each request it hears.
REQUEST_INTENTS = (
    "start_values_exercise",
    "start_voice_check",
    "start_dependency_reflection",
    "start_wise_mind",
    "start_boundary_script",
    "start_roleplay",
    "start_safety_plan",
    "show_safety_plan",
    "edit_safety_plan",
    "practise_script",
    "ask_roleplay_progress",
    "show_my_values",
    "show_journal",
    "export_my_data",
    "delete_my_data",
    "ask_help",
    "ask_bot_challenge",
    "learn",
    "report_reply",
    "show_progress",
    "stop_nudges",
    "allow_nudges",
)
KIT_TEXTS_FILE = DATA_DIR / "dialogue" / "texts.yml"
KIT_OWN_SPEC = {
    "request_heard": frozenset({"request"}),
    "requests": dict.fromkeys(REQUEST_INTENTS, frozenset()),
    "buttons": {"pause": frozenset(), "carry_on": frozenset()},
}


def flat_spec(spec: TextSpec, prefix: str = "") -> dict[str, frozenset[str]]:
    """``spec`` with its groups spelled out as dotted keys."""
    flat: dict[str, frozenset[str]] = {}
    for key, allowed in spec.items():
        full = f"{prefix}{key}"
        if isinstance(allowed, Mapping):
            flat.update(flat_spec(allowed, f"{full}."))
        else:
            flat[full] = frozenset(allowed)
    return flat


def placeholders(template: str, path: Path | str = "", key: str = "") -> frozenset[str]:
    """The names of the {fields} in ``template``; positional or formatted ones are refused."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ContentError(path, key, f"has a broken placeholder ({error})") from None
    names = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ContentError(
                path, key, f"placeholder {{{name}}} must be a plain name like {{title}}"
            )
        names.add(name)
    return frozenset(names)


def is_button_key(key: str) -> bool:
    return key.startswith("buttons.") or key.rpartition(".")[2].startswith("button_")


def _without_fields(template: str) -> str:
    return "".join(literal for literal, *_ in string.Formatter().parse(template))


class TextBook:
    """The checked texts of one skill, looked up by key ("hints.finish_this_first")."""

    def __init__(self, path: Path | str, texts: Mapping[str, str]) -> None:
        self.path = str(path)
        self._texts = dict(texts)

    @classmethod
    def load(cls, path: Path | str, spec: TextSpec) -> TextBook:
        """Read ``path`` and check every text of ``spec`` (see the module docstring)."""
        tree = require_mapping(load_yaml(path), path, "")
        texts: dict[str, str] = {}
        for key, allowed in flat_spec(spec).items():
            value: Any = tree
            walked: list[str] = []
            for part in key.split("."):
                value = require_mapping(value, path, ".".join(walked) or key).get(part)
                walked.append(part)
                if value is None:
                    raise ContentError(path, key, "missing")
            text = require_text(value, path, key).strip()
            unknown = placeholders(text, path, key) - allowed
            if unknown:
                names = ", ".join(sorted(unknown))
                raise ContentError(path, key, f"uses unknown placeholder(s): {names}")
            if is_button_key(key) and len(_without_fields(text)) > BUTTON_TITLE_MAX:
                raise ContentError(
                    path, key, f"button title is longer than {BUTTON_TITLE_MAX} characters"
                )
            texts[key] = text
        return cls(path, texts)

    @classmethod
    def for_skill(cls, path: Path | str, spec: TextSpec, *, ratings: bool = False) -> TextBook:
        """A skill's texts: its own ``spec`` and the kit's (``KIT_TEXT_SPEC``, and
        ``RATING_TEXT_SPEC`` for a skill that asks for ratings)."""
        kit = {**flat_spec(KIT_TEXT_SPEC), **(flat_spec(RATING_TEXT_SPEC) if ratings else {})}
        return cls.load(path, {**kit, **flat_spec(spec)})

    def keys(self) -> list[str]:
        return list(self._texts)

    def template(self, key: str) -> str:
        """The text at ``key`` as written, placeholders unfilled."""
        return self._texts[key]

    def text(self, key: str, **fields: Any) -> str:
        """The text at ``key`` with its placeholders filled in."""
        return self._texts[key].format(**fields)

    def button(self, key: str, payload: str, **fields: Any) -> dict[str, str]:
        """A button whose title is the text at ``buttons.<key>`` (or ``key`` when it has dots
        or is a ``button_`` key)."""
        title_key = key if "." in key or key.startswith("button_") else f"buttons.{key}"
        return {"title": self.text(title_key, **fields), "payload": payload}


@functools.lru_cache(maxsize=1)
def kit_texts() -> TextBook:
    """The kit's own words (data/dialogue/texts.yml), read once per process."""
    return TextBook.load(KIT_TEXTS_FILE, KIT_OWN_SPEC)


def shorten(text: str, limit: int = BUTTON_TITLE_MAX) -> str:
    """Cut ``text`` at a word boundary to at most ``limit`` characters, marking the cut with …."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"
