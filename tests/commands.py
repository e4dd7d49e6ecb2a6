"""The project's commands run as an operator runs them: this Python in a process of its own,
from the repository root, its output read as text."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_python(
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path = REPO_ROOT,
    timeout: float | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``python *args`` (``-m module ...`` or a script); ``check`` raises when it fails."""
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=check,
    )
