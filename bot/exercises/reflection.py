"""The codependency / healthy-dependency reflection without the dialogue: statements, reading
an answer, where each dimension leans, and how that changed since last time.

This is a reflection, not a test: the result is a lean per dimension in plain words, never a
score to pass or a label for the person.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.content import (
    DATA_DIR,
    ContentError,
    load_yaml,
    require_entries,
    require_list,
    require_mapping,
    require_text,
)
from bot.dialogue.texts import BUTTON_TITLE_MAX, TextBook, plain
from bot.exercises.phrases import PhraseIndex

if TYPE_CHECKING:
    from spacy.language import Language

REFLECTION_FILE = DATA_DIR / "reflection" / "reflection.yml"
DIRECTIONS = ("healthy", "codependent")
BANDS = ("healthy", "mixed", "codependent")
MAX_OFFERS = 3

_NONE: frozenset[str] = frozenset()
REFLECTION_TEXT_SPEC = {
    "intro": _NONE,
    "ask_statement": frozenset({"index", "total", "statement"}),
    **plain("hint_answer", "result_opening", "disclaimer", "change_opening"),
    "change_line": frozenset({"dimension", "before", "now"}),
    "no_change": _NONE,
    "before": {band: _NONE for band in BANDS},
    "now": {band: _NONE for band in BANDS},
    **plain("saved", "offer", "offer_all_healthy", "button_restart"),
}


@dataclass(frozen=True)
class Dimension:
    """One of the five differences, with its plain-words leans and the exercise that helps."""

    key: str
    label: str
    exercise_title: str
    exercise_payload: str
    lean: Mapping[str, str]


@dataclass(frozen=True)
class Statement:
    id: str
    dimension: str
    direction: str
    text: str


@dataclass(frozen=True)
class ScalePoint:
    key: str
    label: str
    score: int
    words: tuple[str, ...]


@dataclass(frozen=True)
class ReflectionContent:
    """Everything the reflection reads from ``data/reflection/``."""

    dimensions: tuple[Dimension, ...]
    statements: tuple[Statement, ...]
    scale: tuple[ScalePoint, ...]
    healthy_up_to: float
    codependent_from: float
    texts: TextBook

    @property
    def max_score(self) -> int:
        return max(point.score for point in self.scale)

    def dimension(self, key: str) -> Dimension:
        return next(d for d in self.dimensions if d.key == key)


def _text(raw: Any, path: Path, key: str, max_len: int | None = None) -> str:
    return require_text(raw, path, key, max_len=max_len).strip()


def _load_dimensions(raw: Any, path: Path) -> tuple[Dimension, ...]:
    dimensions = []
    for where, entry in require_entries(raw, path, "dimensions"):
        exercise = require_mapping(entry.get("exercise"), path, f"{where}.exercise")
        payload = _text(exercise.get("payload"), path, f"{where}.exercise.payload")
        if not payload.startswith("/"):
            raise ContentError(path, f"{where}.exercise.payload", "must be an intent payload")
        lean = require_mapping(entry.get("lean"), path, f"{where}.lean")
        dimensions.append(
            Dimension(
                key=_text(entry.get("key"), path, f"{where}.key"),
                label=_text(entry.get("label"), path, f"{where}.label"),
                exercise_title=_text(
                    exercise.get("title"), path, f"{where}.exercise.title", BUTTON_TITLE_MAX
                ),
                exercise_payload=payload,
                lean={band: _text(lean.get(band), path, f"{where}.lean.{band}") for band in BANDS},
            )
        )
    return tuple(dimensions)


def _load_statements(raw: Any, path: Path, dimensions: set[str]) -> tuple[Statement, ...]:
    statements = []
    for where, entry in require_entries(raw, path, "statements"):
        statement = Statement(
            id=_text(entry.get("id"), path, f"{where}.id"),
            dimension=_text(entry.get("dimension"), path, f"{where}.dimension"),
            direction=_text(entry.get("direction"), path, f"{where}.direction"),
            text=_text(entry.get("text"), path, f"{where}.text", 200),
        )
        if statement.dimension not in dimensions:
            raise ContentError(path, f"{where}.dimension", "is not one of the dimensions")
        if statement.direction not in DIRECTIONS:
            raise ContentError(path, f"{where}.direction", "must be healthy or codependent")
        statements.append(statement)
    ids = [s.id for s in statements]
    if len(set(ids)) != len(ids):
        raise ContentError(path, "statements", "two statements share an id")
    for key in dimensions:
        if not any(s.dimension == key for s in statements):
            raise ContentError(path, "statements", f"no statement for dimension '{key}'")
    return tuple(statements)


def _load_scale(raw: Any, path: Path) -> tuple[ScalePoint, ...]:
    points = []
    for i, (where, entry) in enumerate(require_entries(raw, path, "scale", min_len=2)):
        score = entry.get("score")
        if isinstance(score, bool) or not isinstance(score, int) or score != i:
            raise ContentError(path, f"{where}.score", f"must be {i} (scores count up from 0)")
        words = require_list(entry.get("words"), path, f"{where}.words")
        points.append(
            ScalePoint(
                key=_text(entry.get("key"), path, f"{where}.key"),
                label=_text(entry.get("label"), path, f"{where}.label", BUTTON_TITLE_MAX),
                score=score,
                words=tuple(_text(w, path, f"{where}.words[{j}]") for j, w in enumerate(words)),
            )
        )
    return tuple(points)


def load_reflection_content(path: Path | str = REFLECTION_FILE) -> ReflectionContent:
    """Read and validate the reflection's content (errors name the file and key)."""
    path = Path(path)
    raw = require_mapping(load_yaml(path), path, "")
    dimensions = _load_dimensions(raw.get("dimensions"), path)
    cutoffs = require_mapping(raw.get("lean_cutoffs"), path, "lean_cutoffs")
    healthy_up_to, codependent_from = (
        cutoffs.get("healthy_up_to"),
        cutoffs.get("codependent_from"),
    )
    if not (
        isinstance(healthy_up_to, int | float)
        and isinstance(codependent_from, int | float)
        and 0 <= healthy_up_to < codependent_from <= 1
    ):
        raise ContentError(path, "lean_cutoffs", "need 0 <= healthy_up_to < codependent_from <= 1")
    return ReflectionContent(
        dimensions=dimensions,
        statements=_load_statements(raw.get("statements"), path, {d.key for d in dimensions}),
        scale=_load_scale(raw.get("scale"), path),
        healthy_up_to=float(healthy_up_to),
        codependent_from=float(codependent_from),
        texts=TextBook.for_skill(Path(path).with_name("texts.yml"), REFLECTION_TEXT_SPEC),
    )


@functools.lru_cache(maxsize=1)
def reflection_content() -> ReflectionContent:
    """The repository's reflection content, loaded once per process."""
    return load_reflection_content()


class AnswerReader:
    """Reads "rarely" / "sometimes" / "often" (or "most of the time", "never"...) as a score."""

    def __init__(self, content: ReflectionContent, nlp: Language) -> None:
        self._by_key = {point.key: point.score for point in content.scale}
        self._index = PhraseIndex(
            nlp,
            ((p.key, phrase) for p in content.scale for phrase in (p.key, p.label, *p.words)),
        )

    def read(self, text: str) -> int | None:
        """The score of the answer, or None when it names no point or several different ones."""
        if text.strip() in self._by_key:  # a button's payload
            return self._by_key[text.strip()]
        keys = self._index.keys_in(text)
        return self._by_key[keys[0]] if len(keys) == 1 else None


@functools.lru_cache(maxsize=1)
def answer_reader() -> AnswerReader:
    from bot.spacy_pipeline import load

    return AnswerReader(reflection_content(), load())


def leans(content: ReflectionContent, answers: Sequence[int]) -> dict[str, float]:
    """Each dimension's lean from 0 (healthy side) to 1 (codependent side).

    A "healthy" statement answered "often" pulls towards 0, a "codependent" one towards 1.
    """
    if len(answers) != len(content.statements):
        raise ValueError(f"expected {len(content.statements)} answers, got {len(answers)}")
    top = content.max_score
    totals: dict[str, list[float]] = {d.key: [] for d in content.dimensions}
    for statement, score in zip(content.statements, answers, strict=True):
        if not 0 <= score <= top:
            raise ValueError(f"answer {score} is outside 0..{top}")
        towards_codependent = score if statement.direction == "codependent" else top - score
        totals[statement.dimension].append(towards_codependent / top)
    return {key: round(sum(parts) / len(parts), 4) for key, parts in totals.items()}


def band(content: ReflectionContent, lean: float) -> str:
    """ "healthy", "mixed" or "codependent" for a lean."""
    if lean <= content.healthy_up_to:
        return "healthy"
    if lean >= content.codependent_from:
        return "codependent"
    return "mixed"


def result_lines(content: ReflectionContent, scores: Mapping[str, float]) -> list[str]:
    """One plain sentence per dimension, in content order."""
    return [d.lean[band(content, scores[d.key])] for d in content.dimensions if d.key in scores]


def change_lines(
    content: ReflectionContent, before: Mapping[str, Any], now: Mapping[str, float]
) -> list[str]:
    """ "Boundaries: last time it leaned ..., now it ..." for each dimension whose band moved."""
    lines = []
    for dimension in content.dimensions:
        old, new = before.get(dimension.key), now.get(dimension.key)
        if not isinstance(old, int | float) or isinstance(old, bool) or new is None:
            continue
        old_band, new_band = band(content, float(old)), band(content, new)
        if old_band != new_band:
            lines.append(
                content.texts.text(
                    "change_line",
                    dimension=dimension.label,
                    before=content.texts.text(f"before.{old_band}"),
                    now=content.texts.text(f"now.{new_band}"),
                )
            )
    return lines


def offers(content: ReflectionContent, scores: Mapping[str, float]) -> list[tuple[str, str]]:
    """(button title, payload) of the exercises that match the dimensions leaning furthest.

    Dimensions on the codependent side come first, then mixed ones; healthy ones offer nothing.
    """
    ranked = sorted(
        (d for d in content.dimensions if band(content, scores.get(d.key, 0.0)) != "healthy"),
        key=lambda d: -scores[d.key],
    )
    buttons: list[tuple[str, str]] = []
    for dimension in ranked:
        button = (dimension.exercise_title, dimension.exercise_payload)
        if button not in buttons:
            buttons.append(button)
    return buttons[:MAX_OFFERS]


def texts() -> TextBook:
    """The reflection's words (``data/reflection/texts.yml``), read once with its content."""
    return reflection_content().texts
