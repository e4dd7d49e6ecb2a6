"""Assess replies from the command line: ``python -m bot.roleplay.assess < replies.txt``.

Reads one reply per line on stdin and writes one JSON object per line on stdout:
``{"label": ..., "features": {...}}``. Empty lines get an answer too, so output line N always
belongs to input line N.
"""

from __future__ import annotations

import json
import sys
import types
from typing import TextIO

from bot.roleplay.assessor import Assessment, assess


def run(stdin: TextIO, stdout: TextIO) -> int:
    """Assess each line of ``stdin`` and write its JSON verdict to ``stdout``."""
    for line in stdin:
        verdict = assess(line.rstrip("\r\n"))
        stdout.write(json.dumps(verdict.to_dict(), ensure_ascii=False) + "\n")
        stdout.flush()
    return 0


class _CallableModule(types.ModuleType):
    """Keeps ``bot.roleplay.assess(reply)`` working after this module is imported.

    Importing a submodule sets it as an attribute of its package, which would shadow the
    ``assess`` function that ``bot.roleplay`` exports under the same name.
    """

    def __call__(self, reply: str, request: str | None = None) -> Assessment:
        return assess(reply, request)


sys.modules[__name__].__class__ = _CallableModule


if __name__ == "__main__":
    # Replies may hold any character; do not let a narrow locale turn them into errors.
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    sys.stdout.reconfigure(encoding="utf-8")
    sys.exit(run(sys.stdin, sys.stdout))
