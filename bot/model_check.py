"""Tells whether a trained Rasa model archive can be read, so `make` can replace a broken one.

A model cut short by a full disk or a killed `rasa train` is a tar.gz that fails half-way
through; Rasa then refuses to start with a long traceback. Checking the archive up front lets
`make run` retrain instead.
"""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path


def problem_with(model: Path) -> str | None:
    """Return a one-line reason the archive is unusable, or None if it reads to the end."""
    if not model.is_file():
        return f"{model} does not exist"
    try:
        with tarfile.open(model, "r:gz") as archive:
            names = [member.name for member in archive.getmembers()]
    except (tarfile.TarError, OSError, EOFError) as exc:
        return f"{model} cannot be read ({type(exc).__name__})"
    if not any(name.endswith("metadata.json") for name in names):
        return f"{model} has no metadata.json: it is not a Rasa model"
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m bot.model_check MODEL.tar.gz", file=sys.stderr)
        return 2
    reason = problem_with(Path(args[0]))
    if reason:
        print(f"The model is broken: {reason}. A new one will be trained.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
