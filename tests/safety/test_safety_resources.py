"""Crisis resources: the right numbers for each region, the safety question, the abuse lines,
fallbacks, and validation that names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.safety import resources
from bot.safety.resources import (
    DEFAULT_RESOURCES_PATH,
    REGION_ENV,
    check_in_messages,
    crisis_messages,
    is_check_in_text,
    is_resource_text,
    load_catalogue,
    not_safe_messages,
    regions,
    resolve_region,
    safe_messages,
)
from bot.safety.yaml_data import SafetyDataError

# From /work/shared/docs/content-facts.md ("Crisis lines", checked 2026-11).
NUMBERS = {
    "US": ["988", "HOME to 741741", "911"],
    "UK": ["116 123", "SHOUT to 85258", "999", "112"],
    "IE": ["116 123", "999", "112"],
    "CA": ["988", "911"],
    "AU": ["13 11 14", "000"],
    "OTHER": ["findahelpline.com", "local emergency number"],
}
BUTTONS = [
    {"title": "Yes, I'm safe right now", "payload": "/confirm_safe"},
    {"title": "No, I'm not safe", "payload": "/deny_safe"},
]


def test_regions_in_file_order() -> None:
    assert regions() == ["US", "UK", "IE", "CA", "AU", "OTHER"]


@pytest.mark.parametrize(("region", "numbers"), NUMBERS.items())
def test_each_region_gives_its_numbers_and_asks_about_safety(
    region: str, numbers: list[str]
) -> None:
    messages = crisis_messages(region)
    assert len(messages) == 1
    text = messages[0]["text"]
    for number in numbers:
        assert number in text
    assert text.rstrip().endswith("Are you safe right now?")
    assert messages[0]["buttons"] == BUTTONS


def test_shout_is_only_offered_in_the_uk() -> None:
    assert "85258" not in crisis_messages("IE")[0]["text"]
    assert "85258" in crisis_messages("UK")[0]["text"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("uk", "UK"),
        (" gb ", "UK"),
        ("USA", "US"),
        ("fr", "OTHER"),
        ("", "OTHER"),
        ("OTHER", "OTHER"),
    ],
)
def test_region_codes_are_resolved(given: str, expected: str) -> None:
    assert resolve_region(given) == expected


def test_no_region_uses_the_environment_then_us(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REGION_ENV, raising=False)
    assert resolve_region(None) == "US"
    assert "988" in crisis_messages(None)[0]["text"]
    monkeypatch.setenv(REGION_ENV, "AU")
    assert resolve_region(None) == "AU"
    assert "13 11 14" in crisis_messages(None)[0]["text"]


def test_abuse_lines_follow_when_abuse_and_danger_fires() -> None:
    messages = crisis_messages("US", ("abuse_and_danger", "suicidal_thoughts"))
    assert len(messages) == 2
    abuse = messages[1]["text"]
    assert "1-800-799-7233" in abuse and "START to 88788" in abuse and "1-800-656-4673" in abuse
    assert "buttons" not in messages[1]
    assert len(crisis_messages("US", ("self_harm",))) == 1


def test_unknown_category_errs_towards_more_help() -> None:
    assert len(crisis_messages("UK", ("unknown",))) == 2


def test_follow_ups_per_region() -> None:
    assert "911" in not_safe_messages("US")[0]["text"]
    assert "999" in not_safe_messages("UK")[0]["text"]
    assert "000" in not_safe_messages("AU")[0]["text"]
    assert "988" in safe_messages("CA")[0]["text"]
    assert "116 123" in safe_messages("IE")[0]["text"]


def test_texts_are_short_and_never_promise_confidentiality() -> None:
    data = load_catalogue()
    for region in data.all_texts():
        for text in (
            region.resources,
            region.abuse,
            region.not_safe,
            region.safe,
            region.check_in,
            region.check_in_ask_again,
            region.check_in_no,
        ):
            assert len(text) <= resources.MAX_TEXT_CHARS
            lowered = text.lower()
            assert "confidential" not in lowered and "secret" not in lowered


@pytest.mark.parametrize("region", ["US", "UK", "IE", "CA", "AU", "OTHER"])
def test_resource_texts_are_recognised(region: str) -> None:
    for message in crisis_messages(region, ("abuse_and_danger",)):
        assert is_resource_text(message["text"])
        assert is_resource_text("  " + message["text"].replace("\n", " \n ") + " ")
    assert is_resource_text(not_safe_messages(region)[0]["text"])
    assert not is_resource_text(safe_messages(region)[0]["text"])


def test_generic_variant_is_recognised_and_other_text_is_not() -> None:
    assert is_resource_text(load_catalogue().generic.resources)
    for text in ("", "hello", "Are you safe right now?", None, 988):
        assert not is_resource_text(text)  # type: ignore[arg-type]


def test_unreadable_data_still_gives_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise SafetyDataError("resources.yml", "regions", "broken for the test")

    monkeypatch.setattr(resources, "catalogue", broken)
    messages = crisis_messages("US", ("abuse_and_danger",))
    assert "emergency number" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/confirm_safe", "/deny_safe"]


def _write_variant(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(DEFAULT_RESOURCES_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "resources.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (lambda d: d["regions"]["UK"].pop("not_safe"), "regions.UK.not_safe", "non-empty text"),
        (lambda d: d["regions"]["AU"].update(resources="  "), "regions.AU.resources", "non-empty"),
        (lambda d: d["regions"]["US"].update(safe="Hi {name}"), "regions.US.safe", "curly"),
        (lambda d: d["regions"]["CA"].update(abuse="x" * 900), "regions.CA.abuse", "characters"),
        (lambda d: d.update(default_region="NZ"), "default_region", "not one of the regions"),
        (lambda d: d["aliases"].update(NZ="AUS"), "aliases.NZ", "not one of the regions"),
        (lambda d: d["safety_buttons"].pop(), "safety_buttons", "/deny_safe"),
        (lambda d: d["check_in_buttons"].pop(0), "check_in_buttons", "/check_in_yes"),
        (lambda d: d["regions"]["UK"].pop("check_in"), "regions.UK.check_in", "non-empty"),
        (lambda d: d["regions"].update(us=d["regions"]["US"]), "regions.us", "capital letters"),
        (lambda d: d["regions"]["IE"].update(colour="green"), "regions.IE.colour", "unknown key"),
    ],
)
def test_invalid_resources_name_file_and_key(
    tmp_path: Path, change, key: str, problem: str
) -> None:
    path = _write_variant(tmp_path, change)
    with pytest.raises(SafetyDataError) as error:
        load_catalogue(path)
    assert error.value.path == str(path)
    assert error.value.key == key
    assert problem in error.value.problem


# The main line each region's check-in names (the question and its ask-again keep one at hand).
CHECK_IN_LINES = {
    "US": "988",
    "UK": "116 123",
    "IE": "116 123",
    "CA": "988",
    "AU": "13 11 14",
    "OTHER": "findahelpline.com",
}
CHECK_IN_BUTTONS = [
    {"title": "Yes", "payload": "/check_in_yes"},
    {"title": "No", "payload": "/check_in_no"},
]


@pytest.mark.parametrize(("region", "line"), CHECK_IN_LINES.items())
def test_the_check_in_asks_directly_with_a_crisis_line_and_two_buttons(
    region: str, line: str
) -> None:
    [message] = check_in_messages(region)
    text = message["text"]
    assert "are you thinking about suicide" in text.lower()
    assert line in text
    assert message["buttons"] == CHECK_IN_BUTTONS
    texts = load_catalogue().regions[region]
    assert line in texts.check_in_ask_again and "suicide" in texts.check_in_ask_again
    assert line in texts.check_in_no
    assert is_check_in_text(text) and is_check_in_text(texts.check_in_ask_again)


def test_the_generic_check_in_names_every_region() -> None:
    generic = load_catalogue().generic
    for number in ("988", "116 123", "13 11 14", "findahelpline.com"):
        assert number in generic.check_in and number in generic.check_in_ask_again
    assert is_check_in_text(generic.check_in)


def test_the_check_in_is_not_a_resource_text_and_resources_are_not_a_check_in() -> None:
    # The channels tell the two answers apart: the check-in is not the full resources.
    for region in CHECK_IN_LINES:
        assert not is_resource_text(check_in_messages(region)[0]["text"])
        assert not is_check_in_text(crisis_messages(region)[0]["text"])
        assert not is_check_in_text(load_catalogue().regions[region].check_in_no)
    for text in ("", "hello", None, 988):
        assert not is_check_in_text(text)  # type: ignore[arg-type]


def test_unreadable_data_still_gives_a_check_in(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise SafetyDataError("resources.yml", "regions", "broken for the test")

    monkeypatch.setattr(resources, "catalogue", broken)
    [message] = check_in_messages("US")
    assert "suicide" in message["text"] and "findahelpline.com" in message["text"]
    assert message["buttons"] == CHECK_IN_BUTTONS
