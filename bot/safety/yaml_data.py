"""Loading the safety package's reviewed YAML data, with errors that name the file and the key.

Every content file of ``data/safety`` goes through here, so a typo in a pattern or a phone
number stops start-up with a message a reviewer can act on instead of silently weakening the
safety floor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# libyaml's loader is ~10x faster than the pure-Python one; both are "safe" loaders.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data" / "safety"


class SafetyDataError(ValueError):
    """A safety data file is missing, unreadable or does not have the expected shape."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}" if key else self.path
        super().__init__(f"{where}: {problem}")


def load_yaml(path: Path) -> Any:
    """Read one YAML file; a missing file or a syntax error becomes a ``SafetyDataError``."""
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise SafetyDataError(path, "", "file not found") from None
    except yaml.YAMLError as exc:
        raise SafetyDataError(path, "", f"invalid YAML ({exc})") from None


def require_mapping(value: Any, path: Path, key: str) -> dict[str, Any]:
    """Return ``value`` if it is a mapping with string keys, else raise naming ``key``."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SafetyDataError(path, key, "expected a mapping with text keys")
    return value


def require_keys(value: Any, allowed: set[str], path: Path, key: str) -> dict[str, Any]:
    """Return ``value`` if it is a mapping with text keys, all of them ``allowed``, else raise."""
    mapping = require_mapping(value, path, key)
    reject_unknown_keys(mapping, allowed, path, key)
    return mapping


def load_mapping(path: Path, allowed: set[str]) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping with only ``allowed`` keys."""
    return require_keys(load_yaml(path), allowed, path, "")


def require_list(value: Any, path: Path, key: str, *, non_empty: bool = True) -> list[Any]:
    """Return ``value`` if it is a list (non-empty unless told otherwise), else raise."""
    if not isinstance(value, list):
        raise SafetyDataError(path, key, "expected a list")
    if non_empty and not value:
        raise SafetyDataError(path, key, "expected at least one entry")
    return value


def require_text(value: Any, path: Path, key: str) -> str:
    """Return ``value`` if it is a non-blank string, else raise naming ``key``."""
    if not isinstance(value, str) or not value.strip():
        raise SafetyDataError(path, key, "expected non-empty text")
    return value


def reject_unknown_keys(mapping: dict[str, Any], allowed: set[str], path: Path, key: str) -> None:
    """Typos in key names would silently drop data: refuse keys we do not know."""
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        where = f"{key}." if key else ""
        raise SafetyDataError(
            path, f"{where}{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
        )
