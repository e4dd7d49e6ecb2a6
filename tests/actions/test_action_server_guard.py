"""The action server fails closed when its token check cannot be loaded.

rasa-sdk skips a plugin it cannot import and would then run every action for anyone; importing
the actions package (which rasa-sdk does first) refuses instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# As if the package were not on the path: Python treats a None in sys.modules as "not there".
_IMPORT_WITHOUT_PLUGIN = "import sys; sys.modules['rasa_sdk_plugins'] = None; import actions"


def _import_actions(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO_ROOT), "SECURE_BASE_WARM_UP": "0", "PATH": "/usr/bin:/bin"},
    )


def test_without_the_token_check_the_actions_refuse_to_load() -> None:
    done = _import_actions(_IMPORT_WITHOUT_PLUGIN)
    assert done.returncode != 0
    assert "token check" in done.stderr


def test_with_the_token_check_they_load() -> None:
    done = _import_actions("import actions, rasa_sdk_plugins")
    assert done.returncode == 0, done.stderr
