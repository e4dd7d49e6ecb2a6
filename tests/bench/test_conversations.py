"""Loading and validating the benchmark's conversation scripts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.conversations import (
    ScriptError,
    load_scripts,
    parse_scripts,
    payload_intents,
)

BENCH_SCRIPTS = Path(__file__).resolve().parents[2] / "bench" / "scripts"


def test_a_script_loads_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text(
        "conversations:\n"
        "  first:\n    - hi\n    - /start_roleplay\n"
        "  second:\n    - 'yes'\n"
        "assessor_replies:\n  - 'No, thanks.'\n"
    )
    scripts = load_scripts(path)
    assert [c.name for c in scripts.conversations] == ["first", "second"]
    assert scripts.conversations[0].turns == ("hi", "/start_roleplay")
    assert scripts.turns == ["hi", "/start_roleplay", "yes"]
    assert scripts.assessor_replies == ("No, thanks.",)


def test_an_unquoted_yes_is_refused_with_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "s.yml"
    path.write_text("conversations:\n  greet_and_agree:\n    - hi\n    - yes\n")
    with pytest.raises(ScriptError) as caught:
        load_scripts(path)
    message = str(caught.value)
    assert str(path) in message
    assert "conversations.greet_and_agree[1]" in message
    assert "quote" in message


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ([], "top level"),
        ({"conversations": {}}, "conversations"),
        ({"conversations": {"a": []}}, "conversations.a"),
        ({"conversations": {"a": ["  "]}}, "conversations.a[0]"),
        ({"conversations": {"a": ["hi"]}, "extra": 1}, "unknown key"),
        ({"conversations": {"a": ["hi"]}, "assessor_replies": "no"}, "assessor_replies"),
    ],
)
def test_malformed_scripts_name_the_key(data: object, key: str) -> None:
    with pytest.raises(ScriptError, match=re.escape(key)):
        parse_scripts(data, Path("scripts.yml"))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="no such conversation script"):
        load_scripts(tmp_path / "missing.yml")


def test_payload_intents_reads_button_payloads_only() -> None:
    turns = ["/greet", '/choose{"scenario": "shift"}', "hi /greet", "/", "what is this?"]
    assert payload_intents(turns) == {"greet", "choose"}


@pytest.mark.parametrize("name", ["secure_base.yml", "moodbot.yml"])
def test_the_shipped_scripts_are_valid(name: str) -> None:
    scripts = load_scripts(BENCH_SCRIPTS / name)
    assert len(scripts.conversations) >= 5
    assert all(len(c.turns) >= 3 for c in scripts.conversations)


def test_secure_base_scripts_hold_crisis_messages_and_menu_buttons() -> None:
    scripts = load_scripts(BENCH_SCRIPTS / "secure_base.yml")
    assert {"start_values_exercise", "start_roleplay", "start_boundary_script"} <= payload_intents(
        scripts.turns
    )
    assert any("alive anymore" in turn for turn in scripts.turns)
    assert scripts.assessor_replies
