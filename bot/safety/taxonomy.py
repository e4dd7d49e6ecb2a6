"""The warning-sign taxonomy: what the crisis detector must recognise, written down first.

Reviewed data (``data/safety/taxonomy.yml``): each sign has a definition, a band (``full``: the
full static resources; ``middle``: real but not explicit, where a direct check-in fits), the kind
of resources it calls for and its public sources. Every crisis pattern and every evaluation
message names one sign; the loaders check the names against this file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from bot.safety import yaml_data

DEFAULT_TAXONOMY_PATH = yaml_data.DATA_DIR / "taxonomy.yml"
BAND_FULL = "full"
BAND_MIDDLE = "middle"
BANDS = (BAND_FULL, BAND_MIDDLE)
# What the full answer shows, as texts of data/safety/resources.yml.
RESOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "crisis_lines": ("resources",),
    "crisis_and_abuse_lines": ("resources", "abuse"),
}
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Sign:
    """One warning sign."""

    id: str
    name: str
    band: str
    resources: str
    definition: str
    sources: tuple[str, ...]

    @property
    def middle(self) -> bool:
        return self.band == BAND_MIDDLE


@dataclass(frozen=True)
class Taxonomy:
    """The validated content of ``taxonomy.yml``, in file order."""

    signs: dict[str, Sign]
    path: str

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.signs)

    @property
    def middle_band(self) -> frozenset[str]:
        return frozenset(sign.id for sign in self.signs.values() if sign.middle)

    def require(self, sign: object, path: Path | str, key: str) -> str:
        """``sign`` if it names a sign of this taxonomy, else a ``SafetyDataError`` at path/key."""
        if not isinstance(sign, str) or not sign.strip():
            raise yaml_data.SafetyDataError(
                path, key, f"missing sign (one of: {', '.join(self.ids)})"
            )
        if sign not in self.signs:
            raise yaml_data.SafetyDataError(
                path, key, f"unknown sign {sign!r} (the signs are in {self.path})"
            )
        return sign


def load_taxonomy(path: Path = DEFAULT_TAXONOMY_PATH) -> Taxonomy:
    """Load and validate the taxonomy; errors name the file and the key."""
    path = Path(path)
    data = yaml_data.load_mapping(path, {"signs"})
    signs: dict[str, Sign] = {}
    for index, raw in enumerate(yaml_data.require_list(data.get("signs"), path, "signs")):
        key = f"signs[{index}]"
        allowed = {"id", "name", "band", "resources", "definition", "sources"}
        item = yaml_data.require_keys(raw, allowed, path, key)
        sign_id = yaml_data.require_text(item.get("id"), path, f"{key}.id")
        if not _ID_RE.match(sign_id):
            raise yaml_data.SafetyDataError(path, f"{key}.id", "ids are lower_snake_case")
        key = f"signs[{index}] ({sign_id})"
        if sign_id in signs:
            raise yaml_data.SafetyDataError(path, key, "id used twice")
        band = yaml_data.require_text(item.get("band"), path, f"{key}.band")
        if band not in BANDS:
            raise yaml_data.SafetyDataError(
                path, f"{key}.band", f"expected one of: {', '.join(BANDS)}"
            )
        resources = yaml_data.require_text(item.get("resources"), path, f"{key}.resources")
        if resources not in RESOURCE_KINDS:
            raise yaml_data.SafetyDataError(
                path, f"{key}.resources", f"expected one of: {', '.join(RESOURCE_KINDS)}"
            )
        sources = yaml_data.require_list(item.get("sources"), path, f"{key}.sources")
        signs[sign_id] = Sign(
            id=sign_id,
            name=yaml_data.require_text(item.get("name"), path, f"{key}.name").strip(),
            band=band,
            resources=resources,
            definition=" ".join(
                yaml_data.require_text(item.get("definition"), path, f"{key}.definition").split()
            ),
            sources=tuple(
                yaml_data.require_text(s, path, f"{key}.sources[{i}]").strip()
                for i, s in enumerate(sources)
            ),
        )
    return Taxonomy(signs=signs, path=str(path))


@functools.lru_cache(maxsize=4)
def _cached(path_str: str) -> Taxonomy:
    return load_taxonomy(Path(path_str))


def default_taxonomy() -> Taxonomy:
    """The reviewed taxonomy, loaded once."""
    return _cached(str(DEFAULT_TAXONOMY_PATH))
