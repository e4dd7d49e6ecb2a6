"""Loading the bot's content files (exercise steps, value words, scenarios) with clear errors.

Content is data reviewed like code. A typo in a YAML file must fail at start-up with a message
that names the file and the key, not with a KeyError in the middle of someone's exercise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class ContentError(ValueError):
    """A content file is missing, unreadable, or does not have the expected shape."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.where()}: {problem}")

    def where(self) -> str:
        """The file and the key, as the message names them."""
        return f"{self.path}, key '{self.key}'" if self.key else self.path


def load_yaml(path: Path | str) -> Any:
    """Read one YAML file, turning every failure into a ContentError naming the file."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise ContentError(path, "", "file not found") from None
    except yaml.YAMLError as exc:
        raise ContentError(path, "", f"not valid YAML ({exc})") from None


def require_mapping(value: Any, path: Path | str, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContentError(path, key, f"expected a mapping, found {type(value).__name__}")
    return value


def require_text(value: Any, path: Path | str, key: str, *, max_len: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, key, "expected non-empty text")
    if max_len is not None and len(value) > max_len:
        raise ContentError(path, key, f"text is {len(value)} characters, at most {max_len}")
    return value


def require_list(value: Any, path: Path | str, key: str, *, min_len: int = 1) -> list[Any]:
    if not isinstance(value, list) or len(value) < min_len:
        raise ContentError(path, key, f"expected a list of at least {min_len} item(s)")
    return value


def require_entries(
    value: Any, path: Path | str, key: str, *, min_len: int = 1
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The items of a list of mappings (areas, practices, statements), one at a time, each with
    the name its errors give it (``values[2]``)."""
    for i, item in enumerate(require_list(value, path, key, min_len=min_len)):
        where = f"{key}[{i}]"
        yield where, require_mapping(item, path, where)


def require_texts(value: Any, path: Path | str, key: str) -> tuple[str, ...]:
    """A list of non-empty texts (word lists, steps), each without its surrounding spaces."""
    items = require_list(value, path, key)
    return tuple(require_text(item, path, f"{key}[{i}]").strip() for i, item in enumerate(items))


def require_keys(
    mapping: Mapping[str, Any], keys: Iterable[str], path: Path | str, prefix: str = ""
) -> None:
    for key in keys:
        if key not in mapping:
            full = f"{prefix}.{key}" if prefix else key
            raise ContentError(path, full, "missing")
