"""Fixtures of the policy tests (helpers in ``dialogue.py``)."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from tests.policies.dialogue import DOMAIN_DIR


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The project's domain, merged from domain/ as Rasa loads it."""
    return Domain.load(str(DOMAIN_DIR))
