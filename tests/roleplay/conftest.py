"""Shared helpers for the role-play tests: a real spaCy pipeline, real content files."""

from __future__ import annotations

import os

import pytest

# TensorFlow (pulled in by spaCy through thinc) is noisy on stderr; the CLI tests read it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture
def script() -> dict:
    """A saved DEAR MAN boundary script, as the journal would hand it over."""
    return {
        "describe": "You've asked me to pick up your shifts three weekends running.",
        "express": "I'm worn out and I miss my weekends.",
        "assert_": "I'm not going to cover any more weekend shifts this month.",
        "reinforce": "With my weekends back I'll be a better teammate during the week.",
        "who": "my coworker Sam",
        "title": "No more weekend shifts",
    }
