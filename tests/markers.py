"""The test markers, applied in one place, and the guard that keeps ``make unit`` honest.

``make unit`` runs ``pytest -m "not server and not browser and not postgres and not redis and not
model"``: the tests that need no running service, no trained model and no browser. A test gets
its markers here from the fixtures it uses (``MARKS_BY_FIXTURE``; a test on the shared stack
is a ``server`` test) and from ``SERVER_IMPLIES`` (every server loads the trained model),
on top of the ``pytest.mark.<name>`` a module or test states itself.

When the marker expression leaves out ``model`` tests (as ``make unit`` does), every test that
does run is watched through Python's audit hooks: opening the trained model (or anything else in
models/ but the spaCy pipeline, which ``make setup`` builds), connecting to PostgreSQL or Redis,
or starting ``rasa`` or a browser fails the test with the marker it lacks, even where the code
under test swallows the error. The watch cannot see a connection made in C (psycopg2's):
PostgreSQL is found through the ``postgres_url`` fixture instead, nor what a test's child
process does (such tests are marked by hand).

The learned layers (``models/crisis_layer.npz``, ``models/roleplay_layer.npz``) are kept out of
that run instead: some 200 unit tests go through the default crisis detector or role-play
assessor, which use a layer when its file is there and run on their patterns alone (logged)
when it is not. Refusing the files makes the run the same with or without ``make model``; a test
that needs a layer says so with ``model`` (and fails here if it does not: it finds no layer).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO_ROOT / "models"
# Built by `make setup` (bot/spacy_pipeline.py), not trained: unit tests may load it.
SPACY_PIPELINE_DIR = MODELS_DIR / "spacy_en_lookup"

# The markers themselves are registered in pyproject.toml (pytest runs with --strict-markers).
MARKS_BY_FIXTURE = {
    "postgres_url": ("postgres",),
    "redis_corner": ("redis",),
    "shared_stack": ("server",),
    "browser": ("browser",),
}
SERVER_IMPLIES = ("model",)
SERVICE_PORTS = {5432: "postgres", 6379: "redis"}
# Refused, not reported: their readers fall back to the patterns alone (see above).
LEARNED_LAYERS = frozenset({MODELS_DIR / "crisis_layer.npz", MODELS_DIR / "roleplay_layer.npz"})


def apply_markers(items: list[pytest.Item]) -> None:
    """Give each collected test the markers its fixtures and other markers imply."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marks in MARKS_BY_FIXTURE.items():
            if fixture in names:
                for mark in marks:
                    item.add_marker(mark)
        if item.get_closest_marker("server") is not None:
            for mark in SERVER_IMPLIES:
                item.add_marker(mark)


def _leaves_out_model_tests(markexpr: str) -> bool:
    if not markexpr:
        return False
    from _pytest.mark.expression import Expression  # pytest's own reading of -m

    return not Expression.compile(markexpr).evaluate(lambda name, **_: name == "model")


class UnitGuard:
    """Records what a running test reached that its (missing) markers say it must not."""

    def __init__(self) -> None:
        self.current: str | None = None
        self.found: list[str] = []

    def hook(self, event: str, args: tuple) -> None:
        if self.current is None:
            return
        if event == "open" or event in ("os.scandir", "os.listdir"):
            self._path(event, args[0] if args else None)
        elif event == "socket.connect":
            address = args[1] if len(args) > 1 else None
            if isinstance(address, tuple) and len(address) >= 2 and address[1] in SERVICE_PORTS:
                self._reached(f"{address[0]}:{address[1]}", SERVICE_PORTS[address[1]])
        elif event == "subprocess.Popen":
            command = [str(part) for part in (args[1] or ())] if len(args) > 1 else []
            program = Path(command[0]).name if command else ""
            if program == "rasa":
                self._reached(f"`{' '.join(command[:3])}`", "server")
            elif any("chromium" in part or "playwright" in part for part in command[:2]):
                self._reached("a browser", "browser")

    def _path(self, event: str, path: object) -> None:
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str | os.PathLike):
            return
        text = os.path.abspath(os.fspath(path))
        if Path(text) in LEARNED_LAYERS:
            raise FileNotFoundError(f"{text} is kept out of `make unit` (tests/markers.py)")
        models = str(MODELS_DIR)
        if (text == models or text.startswith(models + os.sep)) and not text.startswith(
            str(SPACY_PIPELINE_DIR)
        ):
            self._reached(f"{text} ({event})", "model")

    def _reached(self, what: str, mark: str) -> None:
        message = (
            f"{self.current} reached {what} but is not marked `{mark}`: add "
            f"pytest.mark.{mark} (or use the fixture that gives it) so that `make unit` leaves "
            "it out"
        )
        self.found.append(message)
        # Stop the test here; code that swallows this still fails at the end of the phase.
        self.current = None
        raise RuntimeError(message)


_guard: UnitGuard | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _guard
    if _leaves_out_model_tests(config.option.markexpr) and _guard is None:
        _guard = UnitGuard()
        sys.addaudithook(_guard.hook)  # hooks stay for the process; the guard's flag turns it off


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    apply_markers(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    if _guard is None:
        return (yield)
    _guard.found.clear()
    try:
        return (yield)
    finally:
        _guard.current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    if _guard is not None:
        _guard.current = item.nodeid
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if _guard is None:
        return report
    if _guard.found:
        if report.outcome != "failed":  # the code under test swallowed the error
            report.outcome = "failed"
            report.longrepr = "\n".join(_guard.found)
        _guard.found.clear()
    if call.when == "teardown":
        _guard.current = None
    return report
