"""Static crisis resources per region, as Rasa-style messages.

The text is reviewed data (``data/safety/resources.yml``): numbers and wording are checked by
people, never generated. Channels call ``crisis_messages`` when ``detect`` fires and
``is_resource_text`` to see whether Rasa has already answered with resources; for the middle
band (``detect``'s tier ``check_in``) they use ``check_in_messages`` and ``is_check_in_text``.
The Rasa domain responses are generated from the same file (``bot.safety.domain_gen``).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.safety import yaml_data

logger = logging.getLogger(__name__)

DEFAULT_RESOURCES_PATH = yaml_data.DATA_DIR / "resources.yml"
REGION_ENV = "SECURE_BASE_REGION"
ABUSE_CATEGORY = "abuse_and_danger"
TEXT_KINDS = (
    "resources",
    "abuse",
    "not_safe",
    "safe",
    "ask_again",
    "unsure",
    "check_in",
    "check_in_ask_again",
    "check_in_no",
)
# The texts that ask "Are you safe right now?" and so carry the two safety buttons.
QUESTION_KINDS = ("resources", "ask_again")
REQUIRED_PAYLOADS = ("/confirm_safe", "/deny_safe")
# The texts that ask the check-in question ("are you thinking about suicide?"): its buttons.
CHECK_IN_KINDS = ("check_in", "check_in_ask_again")
REQUIRED_CHECK_IN_PAYLOADS = ("/check_in_yes", "/check_in_no")
# The answers to "Are you safe right now?": the channels add the ``answer_buttons`` ("Report
# this reply", issue 19) to them as they go out (``with_answer_buttons``); their text and the
# domain's responses stay as they are. The buttons are optional.
ANSWER_KINDS = ("safe", "not_safe")
# The answers that carry "Report this reply": "I'm glad you're safe" (a false alarm is reported
# from there). The not-safe answer has nothing under it but its lines: the phrase still works.
REPORTABLE_KINDS = ("safe",)
MAX_TEXT_CHARS = 700
_REGION_RE = re.compile(r"^[A-Z]{2,5}$")

# Shown only if resources.yml cannot be read at all: the safety floor must still say something.
# Kept to facts that hold everywhere; the reviewed texts live in resources.yml.
_LAST_RESORT_TEXT = (
    "You matter, and you deserve support right now. If you're in immediate danger, call your "
    "local emergency number. findahelpline.com lists crisis lines in your country.\n\n"
    "Are you safe right now?"
)
_LAST_RESORT_CHECK_IN_TEXT = (
    "Thank you for telling me that. I want to ask you something directly: are you thinking "
    "about suicide, or about ending your life?\n\n"
    "Whatever your answer, findahelpline.com lists crisis lines in your country, and your local "
    "emergency number is there if you're in danger."
)
_LAST_RESORT_CHECK_IN_BUTTONS = (
    {"title": "Yes", "payload": "/check_in_yes"},
    {"title": "No", "payload": "/check_in_no"},
)


@dataclass(frozen=True)
class RegionTexts:
    """The texts of one region (or of the generic, region-less variant)."""

    resources: str
    abuse: str
    not_safe: str
    safe: str
    ask_again: str
    unsure: str
    check_in: str
    check_in_ask_again: str
    check_in_no: str
    name: str = ""


@dataclass(frozen=True)
class ResourceCatalogue:
    """The validated content of ``resources.yml``."""

    default_region: str
    fallback_region: str
    aliases: dict[str, str]
    buttons: tuple[dict[str, str], ...]
    regions: dict[str, RegionTexts]
    generic: RegionTexts
    check_in_buttons: tuple[dict[str, str], ...] = _LAST_RESORT_CHECK_IN_BUTTONS
    answer_buttons: tuple[dict[str, str], ...] = ()

    def resolve(self, region: str | None) -> str:
        """A known region code for ``region`` (None: ``SECURE_BASE_REGION``, then the default)."""
        if region is None:
            region = os.environ.get(REGION_ENV) or self.default_region
        code = str(region).strip().upper()
        code = self.aliases.get(code, code)
        return code if code in self.regions else self.fallback_region

    def all_texts(self) -> list[RegionTexts]:
        return [*self.regions.values(), self.generic]


def _load_texts(raw: Any, path: Path, key: str, *, named: bool) -> RegionTexts:
    allowed = set(TEXT_KINDS) | ({"name"} if named else set())
    data = yaml_data.require_keys(raw, allowed, path, key)
    texts = {}
    for kind in TEXT_KINDS:
        text = yaml_data.require_text(data.get(kind), path, f"{key}.{kind}").strip()
        where = f"{key}.{kind}"
        if "{" in text or "}" in text:
            raise yaml_data.SafetyDataError(
                path, where, "curly braces would be read as Rasa slot templates"
            )
        if len(text) > MAX_TEXT_CHARS:
            raise yaml_data.SafetyDataError(
                path,
                where,
                f"{len(text)} characters; keep it under {MAX_TEXT_CHARS} (phone screen)",
            )
        if any(line != line.rstrip() for line in text.splitlines()):
            raise yaml_data.SafetyDataError(path, where, "a line ends with spaces")
        texts[kind] = text
    name = yaml_data.require_text(data.get("name"), path, f"{key}.name") if named else ""
    return RegionTexts(name=name, **texts)


def load_catalogue(path: Path = DEFAULT_RESOURCES_PATH) -> ResourceCatalogue:
    """Load and validate ``resources.yml``; errors name the file and the key."""
    path = Path(path)
    allowed = {
        "default_region",
        "fallback_region",
        "aliases",
        "safety_buttons",
        "check_in_buttons",
        "answer_buttons",
        "regions",
        "generic",
    }
    data = yaml_data.load_mapping(path, allowed)

    regions: dict[str, RegionTexts] = {}
    for code, raw in yaml_data.require_mapping(data.get("regions"), path, "regions").items():
        if not _REGION_RE.match(code):
            raise yaml_data.SafetyDataError(
                path, f"regions.{code}", "region codes are 2-5 capital letters"
            )
        regions[code] = _load_texts(raw, path, f"regions.{code}", named=True)
    if not regions:
        raise yaml_data.SafetyDataError(path, "regions", "no regions")
    generic = _load_texts(data.get("generic"), path, "generic", named=False)

    default_region = yaml_data.require_text(
        data.get("default_region"), path, "default_region"
    ).strip()
    fallback_region = yaml_data.require_text(
        data.get("fallback_region"), path, "fallback_region"
    ).strip()
    for key, code in (("default_region", default_region), ("fallback_region", fallback_region)):
        if code not in regions:
            raise yaml_data.SafetyDataError(path, key, f"{code!r} is not one of the regions")

    aliases: dict[str, str] = {}
    for alias, code in yaml_data.require_mapping(
        data.get("aliases") or {}, path, "aliases"
    ).items():
        if not isinstance(code, str) or code not in regions:
            raise yaml_data.SafetyDataError(
                path, f"aliases.{alias}", f"{code!r} is not one of the regions"
            )
        aliases[alias.upper()] = code

    return ResourceCatalogue(
        default_region=default_region,
        fallback_region=fallback_region,
        aliases=aliases,
        buttons=_load_buttons(data, path, "safety_buttons", REQUIRED_PAYLOADS),
        regions=regions,
        generic=generic,
        check_in_buttons=_load_buttons(data, path, "check_in_buttons", REQUIRED_CHECK_IN_PAYLOADS),
        answer_buttons=(
            _load_buttons(data, path, "answer_buttons", ()) if "answer_buttons" in data else ()
        ),
    )


def _load_buttons(
    data: dict[str, Any], path: Path, key: str, required: Sequence[str]
) -> tuple[dict[str, str], ...]:
    buttons = []
    for index, raw in enumerate(yaml_data.require_list(data.get(key), path, key)):
        where = f"{key}[{index}]"
        button = yaml_data.require_keys(raw, {"title", "payload"}, path, where)
        title = yaml_data.require_text(button.get("title"), path, f"{where}.title").strip()
        payload = yaml_data.require_text(button.get("payload"), path, f"{where}.payload").strip()
        if not payload.startswith("/"):
            raise yaml_data.SafetyDataError(
                path, f"{where}.payload", "payloads are intents: '/intent_name'"
            )
        buttons.append({"title": title, "payload": payload})
    payloads = [b["payload"] for b in buttons]
    for payload in required:
        if payload not in payloads:
            raise yaml_data.SafetyDataError(path, key, f"missing the {payload} button")
    return tuple(buttons)


@functools.lru_cache(maxsize=1)
def catalogue() -> ResourceCatalogue:
    """The reviewed catalogue, loaded once per process."""
    return load_catalogue()


def regions() -> list[str]:
    """The region codes, in the order of the file (US first)."""
    return list(catalogue().regions)


def resolve_region(region: str | None) -> str:
    """The region code used for ``region`` (aliases such as GB -> UK; unknown -> OTHER)."""
    return catalogue().resolve(region)


def crisis_messages(region: str | None, categories: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Rasa-style messages with the crisis resources for ``region``.

    The first message holds the resources, asks whether the user is safe and carries the two
    buttons; the abuse lines follow when ``abuse_and_danger`` (or ``unknown``) is among the
    categories. Never raises: if the data cannot be read, a minimal built-in text is returned.
    """
    try:
        data = catalogue()
        texts = data.regions[data.resolve(region)]
        messages: list[dict[str, Any]] = [
            {"text": texts.resources, "buttons": [dict(b) for b in data.buttons]}
        ]
        if ABUSE_CATEGORY in categories or "unknown" in categories:
            messages.append({"text": texts.abuse})
        return messages
    except Exception as exc:  # the safety floor must always answer
        logger.error(
            "crisis resources unavailable (%s); using the built-in text", type(exc).__name__
        )
        buttons = [
            {"title": "Yes, I'm safe right now", "payload": "/confirm_safe"},
            {"title": "No, I'm not safe", "payload": "/deny_safe"},
        ]
        return [{"text": _LAST_RESORT_TEXT, "buttons": buttons}]


def crisis_lines(region: str | None) -> list[str]:
    """The crisis lines of ``region`` (the bullet lines of its resources text), or of every
    region when ``region`` is None: the reviewed lines a safety plan's step 5 starts from."""
    data = catalogue()
    texts = data.generic if region is None else data.regions[data.resolve(region)]
    return [
        line.strip()[1:].strip()
        for line in texts.resources.splitlines()
        if line.strip().startswith("•")
    ]


def _answer_message(text: str, data: ResourceCatalogue) -> dict[str, Any]:
    message: dict[str, Any] = {"text": text}
    if data.answer_buttons:
        message["buttons"] = [dict(b) for b in data.answer_buttons]
    return message


def not_safe_messages(region: str | None) -> list[dict[str, Any]]:
    """The answer to "No, I'm not safe" for ``region`` (with the ``answer_buttons``)."""
    data = catalogue()
    return [_answer_message(data.regions[data.resolve(region)].not_safe, data)]


def safe_messages(region: str | None) -> list[dict[str, Any]]:
    """The answer to "Yes, I'm safe right now" for ``region`` (with the ``answer_buttons``)."""
    data = catalogue()
    return [_answer_message(data.regions[data.resolve(region)].safe, data)]


def check_in_messages(region: str | None) -> list[dict[str, Any]]:
    """The check-in question for the middle band, with its crisis line and two buttons.

    Never raises: if the data cannot be read, a minimal built-in text is returned.
    """
    try:
        data = catalogue()
        text = data.regions[data.resolve(region)].check_in
        return [{"text": text, "buttons": [dict(b) for b in data.check_in_buttons]}]
    except Exception as exc:  # the safety floor must always answer
        logger.error("check-in text unavailable (%s); using the built-in text", type(exc).__name__)
        return [
            {
                "text": _LAST_RESORT_CHECK_IN_TEXT,
                "buttons": [dict(b) for b in _LAST_RESORT_CHECK_IN_BUTTONS],
            }
        ]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _region_texts(built_in: str, fields: tuple[str, ...]) -> frozenset[str]:
    """The squashed texts of ``fields`` in every region, plus the built-in one."""
    texts = {_squash(built_in)}
    for region in catalogue().all_texts():
        texts.update(_squash(getattr(region, field)) for field in fields)
    return frozenset(texts)


@functools.lru_cache(maxsize=1)
def _resource_texts() -> frozenset[str]:
    return _region_texts(
        _LAST_RESORT_TEXT, ("resources", "abuse", "not_safe", "ask_again", "unsure")
    )


@functools.lru_cache(maxsize=1)
def _first_answer_texts() -> frozenset[str]:
    return _region_texts(_LAST_RESORT_TEXT, ("resources",))


@functools.lru_cache(maxsize=1)
def _safety_question_texts() -> frozenset[str]:
    return _region_texts(_LAST_RESORT_TEXT, ("resources", "ask_again"))


@functools.lru_cache(maxsize=1)
def _check_in_texts() -> frozenset[str]:
    return _region_texts(_LAST_RESORT_CHECK_IN_TEXT, ("check_in", "check_in_ask_again"))


def _is_one_of(text: str, known: Callable[[], frozenset[str]]) -> bool:
    if not isinstance(text, str) or not text.strip():
        return False
    try:
        return _squash(text) in known()
    except Exception as exc:
        logger.error("crisis resources unavailable (%s)", type(exc).__name__)
        return False


def is_safety_question_text(text: str) -> bool:
    """Whether ``text`` asks "Are you safe right now?" (the resources, or the question again)."""
    return _is_one_of(text, _safety_question_texts)


def is_crisis_answer_text(text: str) -> bool:
    """Whether ``text`` is the first answer to a crisis (the resources that ask "Are you safe
    right now?"), not a follow-up such as the question asked again."""
    return _is_one_of(text, _first_answer_texts)


def is_check_in_text(text: str) -> bool:
    """Whether ``text`` asks the check-in question (any region, generic or built-in)."""
    return _is_one_of(text, _check_in_texts)


@functools.lru_cache(maxsize=1)
def _reportable_texts() -> frozenset[str]:
    return _region_texts("", REPORTABLE_KINDS)


def with_answer_buttons(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with the ``answer_buttons`` when it is the "safe" answer to "Are you safe
    right now?" (REPORTABLE_KINDS) with no buttons of its own; any other message as it is.
    Never raises."""
    try:
        if message.get("buttons") or not _is_one_of(message.get("text"), _reportable_texts):
            return message
        buttons = catalogue().answer_buttons
    except Exception as exc:  # a missing button must never stop the answer itself
        logger.error("answer buttons unavailable (%s)", type(exc).__name__)
        return message
    return {**message, "buttons": [dict(b) for b in buttons]} if buttons else message


def is_resource_text(text: str) -> bool:
    """Whether ``text`` is one of the resource messages (any region, generic or built-in).

    Channels use it to see whether Rasa's answer already carries the resources. Whitespace
    differences are ignored; the "I'm safe" follow-up is not a resource message.
    """
    return _is_one_of(text, _resource_texts)
