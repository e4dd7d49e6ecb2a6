"""The prepared validator for action-server answers decides exactly as Rasa's own check."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction

from bot import action_results, rasa_overrides
from bot.action_results import ValidationError, stock_validate, validate_action_result

VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "region", "value": "UK"},
            {"event": "action_execution_rejected", "name": "action_x"},
            {"event": "followup", "name": "utter_menu"},
            {"event": "active_loop", "name": None},
            {"event": "reset_slots"},
        ],
        "responses": [
            {"text": "Here is your journal.", "buttons": [{"title": "Menu", "payload": "/menu"}]},
            {"response": "utter_journal_unavailable"},
            {"json_message": {"document": "x"}},
        ],
    },
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}}]},
]

INVALID: list[dict[str, Any]] = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "region"}]},
    {"events": [{"event": "slot", "value": 1}]},
    {"events": [None]},
    {"responses": "hello"},
    {"responses": ["hello"]},
    {"events": [{"event": "slot", "name": "a", "value": 1}, {"event": 7}]},
]


@pytest.mark.parametrize("answer", VALID, ids=repr)
def test_valid_answers_pass_both_checks(answer: dict[str, Any]) -> None:
    assert stock_validate(answer) is True
    assert validate_action_result(answer) is True


@pytest.mark.parametrize("answer", INVALID, ids=repr)
def test_invalid_answers_fail_both_checks_with_the_same_error(answer: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as stock:
        stock_validate(answer)
    with pytest.raises(ValidationError) as ours:
        validate_action_result(answer)
    assert ours.value.message == stock.value.message
    assert list(ours.value.absolute_path) == list(stock.value.absolute_path)
    assert "Failed to validate Action server response" in ours.value.message


def test_the_start_up_installs_it_in_rasas_remote_action() -> None:
    rasa_overrides.install()
    assert action_results.installed()
    with pytest.raises(ValidationError):
        RemoteAction("action_x", None)._validate_action_result({"events": [{"event": 7}]})
    assert RemoteAction("action_x", None)._validate_action_result({"events": []}) is True
