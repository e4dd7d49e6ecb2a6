"""The project's one spaCy pipeline: blank English plus the lookup lemmatizer, built offline.

No English model can be downloaded on our machines, so we build the pipeline from
``spacy.blank("en")`` and the lemma tables shipped by ``spacy-lookups-data``. ``to_disk`` copies
the tables into the saved pipeline, which then loads without ``spacy-lookups-data``.
Rasa's ``SpacyNLP`` loads the same directory (``config.yml``), as do the crisis detector and the
role-play assessor.

Build it with ``python -m bot.spacy_pipeline`` (``make`` does this when it is missing).
"""

from __future__ import annotations

import argparse
import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # spaCy pulls in TensorFlow through thinc: import it only when needed.
    from spacy.language import Language

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PIPELINE_DIR = PROJECT_ROOT / "models" / "spacy_en_lookup"
PIPELINE_ENV = "SECURE_BASE_SPACY_PIPELINE"


def pipeline_dir() -> Path:
    """Where the built pipeline lives (``SECURE_BASE_SPACY_PIPELINE`` overrides the default)."""
    return Path(os.environ.get(PIPELINE_ENV) or DEFAULT_PIPELINE_DIR)


def build(out_dir: Path | None = None) -> Path:
    """Build the blank English pipeline with the lookup lemmatizer and save it to ``out_dir``."""
    import spacy

    target = Path(out_dir) if out_dir else pipeline_dir()
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    return target


def _build_if_missing(path: Path) -> None:
    if not (path / "config.cfg").exists():
        build(path)


@functools.lru_cache(maxsize=4)
def _load_cached(path_str: str) -> Language:
    import spacy

    path = Path(path_str)
    _build_if_missing(path)
    return spacy.load(path)


def load(path: Path | None = None) -> Language:
    """Load the shared pipeline once per process (built on first use if it is missing)."""
    return _load_cached(str(Path(path) if path else pipeline_dir()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="target directory")
    parser.add_argument(
        "--if-missing", action="store_true", help="do nothing when the pipeline already exists"
    )
    args = parser.parse_args(argv)
    target = args.out or pipeline_dir()
    if args.if_missing and (target / "config.cfg").exists():
        return
    print(f"spaCy pipeline written to {build(target)}")


if __name__ == "__main__":
    main()
