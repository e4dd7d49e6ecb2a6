"""Fixtures of the policy tests (policies and trackers: ``tests/builders.py``)."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from tests.builders import DOMAIN_DIR


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The project's domain, merged from domain/ as Rasa loads it."""
    return Domain.load(str(DOMAIN_DIR))
