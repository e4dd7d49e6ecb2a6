"""domain/safety.yml is generated from resources.yml and must not drift from it."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.safety.domain_gen import RESPONSES, build_domain, main, render
from bot.safety.resources import CHECK_IN_KINDS, QUESTION_KINDS, load_catalogue
from bot.safety.yaml_data import PROJECT_ROOT
from tests.commands import run_python

DOMAIN_FILE = PROJECT_ROOT / "domain" / "safety.yml"


def test_committed_domain_file_is_up_to_date() -> None:
    result = run_python("-m", "bot.safety.domain_gen", "--check", str(DOMAIN_FILE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_variation_per_region_plus_an_unconditioned_one() -> None:
    data = load_catalogue()
    domain = yaml.safe_load(render())
    assert domain["version"] == "3.1"
    assert set(domain["responses"]) == set(RESPONSES)
    for name, kind in RESPONSES.items():
        variations = domain["responses"][name]
        conditioned = [v for v in variations if "condition" in v]
        plain = [v for v in variations if "condition" not in v]
        assert [v["condition"] for v in conditioned] == [
            [{"type": "slot", "name": "region", "value": code}] for code in data.regions
        ]
        assert len(plain) == 1 and plain[0]["text"] == getattr(data.generic, kind)
        for variation in conditioned:
            code = variation["condition"][0]["value"]
            assert variation["text"] == getattr(data.regions[code], kind)
        with_buttons = [v for v in variations if "buttons" in v]
        # The two texts that ask "Are you safe right now?" carry the two safety buttons, the two
        # that ask the check-in question carry its Yes and No.
        asks = kind in QUESTION_KINDS or kind in CHECK_IN_KINDS
        assert len(with_buttons) == (len(variations) if asks else 0)
        expected = data.buttons if kind in QUESTION_KINDS else data.check_in_buttons
        for variation in with_buttons:
            assert variation["buttons"] == [dict(b) for b in expected]


def test_generic_resources_list_every_region() -> None:
    text = build_domain(load_catalogue())["responses"]["utter_crisis_resources"][-1]["text"]
    for number in ("988", "116 123", "13 11 14", "findahelpline.com"):
        assert number in text


def test_check_fails_on_a_stale_file_and_write_fixes_it(tmp_path: Path) -> None:
    target = tmp_path / "domain" / "safety.yml"
    assert main(["--check", str(target)]) == 1
    target.parent.mkdir()
    target.write_text("responses: {}\n", encoding="utf-8")
    assert main(["--check", str(target)]) == 1
    assert main(["--write", str(target)]) == 0
    assert main(["--check", str(target)]) == 0
