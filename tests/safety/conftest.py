"""Fixtures for the safety tests: one real detector (the reviewed patterns, the shared spaCy
pipeline), loaded once per session because compiling the patterns takes a few seconds."""

from __future__ import annotations

import pytest

from bot.safety.detector import CrisisDetector


@pytest.fixture(scope="session")
def detector() -> CrisisDetector:
    """The detector over the reviewed pattern files (read-only: safe to share)."""
    loaded = CrisisDetector()
    loaded.load()
    return loaded
