"""Loading the role-play's YAML content with errors that name the file and the key.

Content is reviewed like code, so a typo in a scenario must fail loudly at start-up with a
message a writer can act on ("scenarios/cover_shift.yml: moves[2].kind: ..."), not deep inside
a conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot import content

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONTENT_DIR = content.DATA_DIR / "roleplay"


class ContentError(content.ContentError):
    """A role-play content file is missing, unreadable or does not have the expected shape.

    Its messages name the key as a path after the file ("cover_shift.yml: moves[2].kind: ...").
    """

    def where(self) -> str:
        return f"{self.path}: {self.key}" if self.key else self.path


def read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning parser errors into a ContentError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContentError(path, "", f"cannot be read ({exc.strerror or exc})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "parse error"
        problem = getattr(exc, "problem", None) or exc
        raise ContentError(path, where, f"is not valid YAML ({problem})") from exc


class Reader:
    """Typed access to a parsed YAML mapping that reports the file and dotted key on failure."""

    def __init__(self, path: Path | str, data: Any, key: str = "") -> None:
        self.path = path
        self.data = data
        self.key = key

    def _child_key(self, name: str | int) -> str:
        if isinstance(name, int):
            return f"{self.key}[{name}]"
        return f"{self.key}.{name}" if self.key else name

    def fail(self, problem: str, key: str | None = None) -> ContentError:
        return ContentError(self.path, self.key if key is None else key, problem)

    def mapping(self) -> dict:
        if not isinstance(self.data, dict):
            raise self.fail(f"must be a mapping, found {type(self.data).__name__}")
        return self.data

    def child(self, name: str | int, required: bool = True) -> Reader | None:
        if isinstance(name, int):
            return Reader(self.path, self.data[name], self._child_key(name))
        data = self.mapping()
        if name not in data or data[name] is None:
            if required:
                raise ContentError(self.path, self._child_key(name), "is missing")
            return None
        return Reader(self.path, data[name], self._child_key(name))

    def items(self, min_len: int = 0) -> list[Reader]:
        if not isinstance(self.data, list):
            raise self.fail(f"must be a list, found {type(self.data).__name__}")
        if len(self.data) < min_len:
            raise self.fail(f"needs at least {min_len} entries, found {len(self.data)}")
        return [Reader(self.path, value, self._child_key(i)) for i, value in enumerate(self.data)]

    def text(self, max_len: int | None = None) -> str:
        if isinstance(self.data, bool):
            raise self.fail(f"YAML read this as {self.data}: put the word in quotes")
        if not isinstance(self.data, str) or not self.data.strip():
            raise self.fail("must be a non-empty string")
        value = " ".join(self.data.split())
        if max_len is not None and len(value) > max_len:
            raise self.fail(f"must be at most {max_len} characters, found {len(value)}")
        return value

    def texts(self, min_len: int = 1, max_len: int | None = None) -> list[str]:
        return [item.text(max_len) for item in self.items(min_len)]

    def integer(self, minimum: int | None = None) -> int:
        if isinstance(self.data, bool) or not isinstance(self.data, int):
            raise self.fail("must be a whole number")
        if minimum is not None and self.data < minimum:
            raise self.fail(f"must be at least {minimum}")
        return self.data

    def choice(self, allowed: tuple[str, ...] | list[str]) -> str:
        value = self.text()
        if value not in allowed:
            raise self.fail(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def words(self) -> list[str]:
        """A list of lower-case words or phrases (pattern vocabularies)."""
        out = []
        for item in self.items(1):
            if isinstance(item.data, bool):
                # YAML 1.1 reads a bare yes/no/on/off as a boolean: the writer meant the word.
                raise item.fail(f"YAML read this word as {item.data}: put it in quotes")
            out.append(item.text().lower())
        return out
