"""Secrets: placeholders and weak values are refused with the setting's name."""

from __future__ import annotations

import pytest

from bot.secrets import SecretError, check_secret, secret_from_env

STRONG = "q8Zr-2mVt_Lk0pXw7sYc4nBh9eJd1fGa"


def test_a_random_secret_is_accepted() -> None:
    assert check_secret("X_SECRET", f"  {STRONG}\n") == STRONG


@pytest.mark.parametrize(
    "value",
    [
        "a-long-random-string-shared-by-every-process",
        "another-long-random-string",
        "a-random-string-of-letters-digits-and-underscores",
        "CHANGE-ME-please-change-me-now-0123456789",
        "your-secret-goes-here-0123456789-abcdefgh",
    ],
)
def test_example_values_are_refused(value: str) -> None:
    with pytest.raises(SecretError, match="X_SECRET is still an example value"):
        check_secret("X_SECRET", value)


@pytest.mark.parametrize("value", ["x", "abc123", STRONG[:31]])
def test_short_secrets_are_refused(value: str) -> None:
    with pytest.raises(SecretError, match=r"X_SECRET is \d+ characters long"):
        check_secret("X_SECRET", value)


def test_a_long_run_of_one_character_is_refused() -> None:
    with pytest.raises(SecretError, match="repeats"):
        check_secret("X_SECRET", "ab" * 20)


def test_from_env_unset_is_none_and_set_is_checked() -> None:
    assert secret_from_env("X_SECRET", environ={}) is None
    assert secret_from_env("X_SECRET", environ={"X_SECRET": "  "}) is None
    assert secret_from_env("X_SECRET", environ={"X_SECRET": STRONG}) == STRONG
    with pytest.raises(SecretError):
        secret_from_env("X_SECRET", environ={"X_SECRET": "short"})
