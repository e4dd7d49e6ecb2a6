"""What both question policies get from their base class: the settings check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policies.check_in import CheckInPolicy, CheckInPolicyConfigError
from bot.policies.question_policy import QuestionPolicy
from bot.policies.safety_question import SafetyQuestionPolicy, SafetyQuestionPolicyConfigError
from tests.builders import build_policy


@pytest.mark.parametrize(
    ("cls", "error"),
    [
        (SafetyQuestionPolicy, SafetyQuestionPolicyConfigError),
        (CheckInPolicy, CheckInPolicyConfigError),
    ],
)
@pytest.mark.parametrize("priority", ["high", True, 2.5])
def test_a_bad_priority_is_a_clear_error(
    tmp_path: Path, cls: type[QuestionPolicy], error: type[ValueError], priority: object
) -> None:
    with pytest.raises(error, match=f"{cls.__name__}: 'priority' must be a whole number"):
        build_policy(cls, tmp_path, {"priority": priority})
