"""Fixtures for the Telegram tests: the fake Bot API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.updates import TOKEN


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A fake Bot API server for one test."""
    with FakeBotApi(TOKEN) as api:
        yield api
