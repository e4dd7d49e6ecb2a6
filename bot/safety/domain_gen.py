"""Generate the Rasa domain responses for the crisis resources from ``resources.yml``.

One source for the text the channels show and the text Rasa says. Each response has one
conditional variation per region (slot ``region``) and one unconditioned variation, used
when the slot is empty, that lists the main numbers of every region.

    python -m bot.safety.domain_gen --write domain/safety.yml
    python -m bot.safety.domain_gen --check domain/safety.yml   # exit 1 if out of date

Only responses are written here; intents, slots and rules belong to the rest of the domain.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.safety.resources import (
    CHECK_IN_KINDS,
    DEFAULT_RESOURCES_PATH,
    QUESTION_KINDS,
    ResourceCatalogue,
    load_catalogue,
)

REGION_SLOT = "region"
RESPONSES = {
    "utter_crisis_resources": "resources",
    "utter_crisis_abuse_lines": "abuse",
    "utter_crisis_not_safe": "not_safe",
    "utter_crisis_safe": "safe",
    "utter_crisis_ask_again": "ask_again",
    "utter_crisis_unsure": "unsure",
    "utter_crisis_check_in": "check_in",
    "utter_crisis_check_in_ask_again": "check_in_ask_again",
    "utter_crisis_check_in_no": "check_in_no",
}
HEADER = (
    "# GENERATED from data/safety/resources.yml by\n"
    "#   python -m bot.safety.domain_gen --write domain/safety.yml\n"
    "# Do not edit by hand: edit resources.yml and regenerate (a pytest checks they agree).\n"
    "# The slot `region` (US, UK, IE, CA, AU, OTHER) picks the variation; when it is empty the\n"
    "# unconditioned variation lists the numbers of every region.\n"
)


class _Dumper(yaml.SafeDumper):
    """Multi-line texts as literal blocks, so the generated file reads like the source."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def build_domain(data: ResourceCatalogue) -> dict[str, Any]:
    """The domain fragment (``version`` and ``responses``) as a mapping."""
    responses: dict[str, list[dict[str, Any]]] = {}
    for response, kind in RESPONSES.items():
        buttons = _buttons_for(data, kind)
        variations: list[dict[str, Any]] = []
        for code, texts in data.regions.items():
            variation: dict[str, Any] = {
                "condition": [{"type": "slot", "name": REGION_SLOT, "value": code}],
                "text": getattr(texts, kind),
            }
            if buttons:
                variation["buttons"] = [dict(b) for b in buttons]
            variations.append(variation)
        generic: dict[str, Any] = {"text": getattr(data.generic, kind)}
        if buttons:
            generic["buttons"] = [dict(b) for b in buttons]
        variations.append(generic)
        responses[response] = variations
    return {"version": "3.1", "responses": responses}


def _buttons_for(data: ResourceCatalogue, kind: str) -> tuple[dict[str, str], ...]:
    """The safety buttons on "Are you safe right now?", the check-in's on the check-in."""
    if kind in QUESTION_KINDS:
        return data.buttons
    if kind in CHECK_IN_KINDS:
        return data.check_in_buttons
    return ()


def render(resources_path: Path = DEFAULT_RESOURCES_PATH) -> str:
    """The full text of ``domain/safety.yml``."""
    domain = build_domain(load_catalogue(resources_path))
    body = yaml.dump(
        domain,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, metavar="PATH", help="write the domain file")
    group.add_argument("--check", type=Path, metavar="PATH", help="fail if PATH is out of date")
    parser.add_argument("--resources", type=Path, default=DEFAULT_RESOURCES_PATH)
    args = parser.parse_args(argv)
    expected = render(args.resources)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(expected, encoding="utf-8")
        print(f"wrote {args.write}")
        return 0
    try:
        current = args.check.read_text(encoding="utf-8")
    except FileNotFoundError:
        print(
            f"{args.check} does not exist; run: python -m bot.safety.domain_gen --write {args.check}"
        )
        return 1
    if current != expected:
        print(
            f"{args.check} is out of date with {args.resources}; run: "
            f"python -m bot.safety.domain_gen --write {args.check}"
        )
        return 1
    print(f"{args.check} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
