"""tests/markers.py: markers given by fixture use, and `make unit`'s watch failing a test that
reaches a trained model unmarked even where the code under test swallows the error.

Runs pytest on a small suite of its own in a temporary folder (a real pytest run, real files).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.commands import run_python
from tests.markers import MODELS_DIR, REPO_ROOT, SPACY_PIPELINE_DIR

UNIT = "not server and not browser and not postgres and not redis and not model"

CONFTEST = """
import pytest

pytest_plugins = ["tests.markers"]


@pytest.fixture
def postgres_url():
    return "postgresql://unused"


def pytest_configure(config):
    for name in ("server", "browser", "postgres", "redis", "model"):
        config.addinivalue_line("markers", name)
"""

SUITE = f"""
import pytest


def _try_open(path):
    try:
        open(path, "rb").close()
    except Exception:  # as the learned layers' loaders do: log and carry on
        pass


def test_swallowed_model_open():
    _try_open({str(MODELS_DIR / "secure-base.tar.gz")!r})


def test_a_learned_layer_is_kept_out():
    with pytest.raises(FileNotFoundError, match="kept out of `make unit`"):
        open({str(MODELS_DIR / "crisis_layer.npz")!r}, "rb")


def test_the_spacy_pipeline_is_allowed():
    _try_open({str(SPACY_PIPELINE_DIR / "config.cfg")!r})


@pytest.mark.model
def test_marked_model():
    _try_open({str(MODELS_DIR / "crisis_layer.npz")!r})


def test_on_postgres(postgres_url):
    assert postgres_url


@pytest.mark.server
def test_on_a_server(request):
    assert request.node.get_closest_marker("model") is not None  # a server loads the model
"""


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    options = ("-q", "-p", "no:cacheprovider", "-rf")
    return run_python("-m", "pytest", *options, *args, cwd=folder, env=env, timeout=300)


def _suite(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_suite.py").write_text(SUITE)
    return tmp_path


def test_the_unit_run_fails_a_test_that_reaches_a_model_unmarked(tmp_path: Path) -> None:
    done = _pytest(_suite(tmp_path), "-m", UNIT)
    assert done.returncode == 1, done.stdout
    assert "1 failed, 2 passed, 3 deselected" in done.stdout, done.stdout
    assert "FAILED test_suite.py::test_swallowed_model_open" in done.stdout
    assert "secure-base.tar.gz (open) but is not marked `model`" in done.stdout


def test_the_full_run_runs_everything_unwatched(tmp_path: Path) -> None:
    done = _pytest(_suite(tmp_path), "-k", "not kept_out")  # nothing is kept out here
    assert done.returncode == 0, done.stdout
    assert "5 passed, 1 deselected" in done.stdout, done.stdout
