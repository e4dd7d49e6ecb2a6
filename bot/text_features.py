"""Sentence features and a linear classifier over them, shared by the learned readers.

The crisis detector's second layer (``bot.safety.learned``), the NLU intent classifier
(``bot.nlu.sentence_classifier``) and the role-play assessor read a message the same way: the
shared encoder's sentence vector (``bot.encoder``) beside hashed word (1-2) and character (2-5)
n-grams of the text, weighed by a multinomial logistic regression. This module holds that once:
the n-gram hashing (stateless, so nothing is fitted but the weights), training, and applying
weights that were saved as plain numbers (``numpy.savez``), never pickles; and what the two
learned layers share around their training (their files, out-of-fold scores, the command line).
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

HASH_FEATURES = 2**18


class HashedNgrams:
    """Word and character n-grams hashed into 2 * HASH_FEATURES columns (L2-normed each)."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        common = {"n_features": HASH_FEATURES, "alternate_sign": False, "norm": "l2"}
        self._chars = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)
        self._words = HashingVectorizer(
            analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **common
        )
        self._char_analyzer = self._chars.build_analyzer()
        self._word_analyzer = self._words.build_analyzer()

    def transform(self, texts: Sequence[str]):
        from scipy import sparse

        return sparse.hstack(
            [self._chars.transform(texts), self._words.transform(texts)], format="csr"
        )

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's non-zero columns and values, as ``transform([text])`` has them.

        For a single message (the assessor's case) sklearn's checks and sparse bookkeeping cost
        more than the hashing itself; this hashes the same n-grams the same way (murmurhash3,
        absolute value modulo the width, counts then an L2 norm per half) in a fraction of it.
        """
        from sklearn.utils import murmurhash3_32

        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for offset, analyzer in ((0, self._char_analyzer), (HASH_FEATURES, self._word_analyzer)):
            counts: dict[int, int] = {}
            for gram in analyzer(text):
                h = murmurhash3_32(gram, seed=0)
                index = (
                    (2**31 - 1 - (HASH_FEATURES - 1)) % HASH_FEATURES
                    if h == -(2**31)
                    else (abs(h) % HASH_FEATURES)
                )
                counts[index] = counts.get(index, 0) + 1
            if counts:
                part = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                columns.append(np.fromiter(counts, dtype=np.int64, count=len(counts)) + offset)
                values.append(part / np.sqrt(part @ part))
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)


def feature_matrix(vectors: np.ndarray, texts: Sequence[str], ngrams: HashedNgrams | None = None):
    """[sentence vector | hashed n-grams] as one sparse matrix, for training."""
    from scipy import sparse

    ngrams = ngrams or HashedNgrams()
    return sparse.hstack([sparse.csr_matrix(vectors), ngrams.transform(texts)], format="csr")


def fit_logistic(features, labels: np.ndarray, c: float, *, balanced: bool = True):
    """A deterministic multinomial logistic regression (lbfgs, fixed data order).

    On a sparse matrix it is fitted on the columns the rows use (:class:`UsedColumnsModel`): the
    same solution, since with an L2 penalty a column no row uses keeps the weight 0 that lbfgs
    starts from, but the solver no longer drags 2 * 2**18 idle weights per class through every
    step (the crisis layer's training took minutes there).
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=c, max_iter=3000, class_weight="balanced" if balanced else None, solver="lbfgs"
    )
    if not sparse.issparse(features):
        return model.fit(features, labels)
    features = sparse.csr_matrix(features)
    columns = np.unique(features.indices)
    if len(columns) == features.shape[1]:
        return model.fit(features, labels)
    model.fit(features[:, columns], labels)
    return UsedColumnsModel(model, columns, features.shape[1])


class UsedColumnsModel:
    """A model fitted on some columns, used as if fitted on all (zero weight elsewhere)."""

    def __init__(self, model, columns: np.ndarray, n_columns: int) -> None:
        self.model, self.columns, self.n_columns = model, columns, n_columns
        self.classes_ = model.classes_
        self.intercept_ = model.intercept_
        coef = np.zeros((model.coef_.shape[0], n_columns), dtype=model.coef_.dtype)
        coef[:, columns] = model.coef_
        self.coef_ = coef

    def predict_proba(self, features) -> np.ndarray:
        from scipy import sparse

        return self.model.predict_proba(sparse.csr_matrix(features)[:, self.columns])


def fit_compact(
    vectors: np.ndarray, texts: Sequence[str], labels: Sequence[str], c: float
) -> LinearWeights:
    """Fit on [vector | hashed n-grams] using only the hashed columns the texts use.

    The same solution as fitting all 2**19 columns (a column no text uses keeps the weight 0
    that lbfgs starts from: its gradient is the L2 penalty's alone), without the solver's
    memory growing with every column times every class: with 45 classes the full fit needed
    several GB. Returns compacted weights (see :class:`LinearWeights`).
    """
    from scipy import sparse

    hashed = HashedNgrams().transform(texts)
    rows = np.unique(hashed.indices).astype(np.int32)
    used = hashed[:, rows]
    matrix = sparse.hstack([sparse.csr_matrix(vectors), used], format="csr")
    classes = sorted(set(labels))
    model = fit_logistic(matrix, np.asarray(labels), c)
    if [str(k) for k in model.classes_] != classes:
        raise ValueError("the logistic regression ordered the classes unexpectedly")
    weights = LinearWeights.from_model(model, vectors.shape[1], classes)
    return LinearWeights(weights.dense_w, weights.sparse_w, weights.bias, weights.classes, rows)


def sparse_dot(rows, weights: np.ndarray) -> np.ndarray:
    """``rows @ weights`` for a CSR matrix, touching only the weights of its non-zero columns.

    scipy's own product first casts all of ``weights`` (2**19 rows) to the matrix's float64,
    milliseconds per message; gathering the few rows needed gives the same sums.
    """
    out = np.zeros((rows.shape[0], weights.shape[1]), dtype=np.float64)
    for i in range(rows.shape[0]):
        start, end = rows.indptr[i], rows.indptr[i + 1]
        if end > start:
            picked = weights[rows.indices[start:end]].astype(np.float64)
            out[i] = rows.data[start:end] @ picked
    return out


@dataclass
class LinearWeights:
    """Weights of a fitted model, split into the dense (vector) and hashed parts.

    ``sparse_rows`` is set on compacted weights (:meth:`compact`): then ``sparse_w`` holds only
    the rows of those hashed columns, the ones any training text used (a logistic regression
    with an L2 penalty leaves every other row exactly zero). Many classes make the full matrix
    large (2**19 rows times 45 intents is 94 MB); compacted, it is a few MB.
    """

    dense_w: np.ndarray  # (dimension, classes)
    sparse_w: np.ndarray  # (2 * HASH_FEATURES, classes), or (len(sparse_rows), classes)
    bias: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    sparse_rows: np.ndarray | None = None  # sorted hashed columns kept by compact()
    # hashed column -> row of sparse_w or -1, built on first use (compacted weights only)
    _lookup: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_model(cls, model, dimension: int, classes: Sequence[str]) -> LinearWeights:
        coef = np.asarray(model.coef_, dtype=np.float32).T
        bias = np.asarray(model.intercept_, dtype=np.float32)
        if coef.shape[1] == 1:  # a two-class model has one column: make it two
            coef = np.hstack([-coef, coef]) / 2
            bias = np.array([-bias[0], bias[0]], dtype=np.float32) / 2
        dense, hashed = coef[:dimension], coef[dimension:]
        return cls(np.ascontiguousarray(dense), np.ascontiguousarray(hashed), bias, tuple(classes))

    def compact(self) -> LinearWeights:
        """The same weights without the all-zero rows of the hashed part (same predictions)."""
        if self.sparse_rows is not None:
            return self
        rows = np.flatnonzero(np.any(self.sparse_w != 0, axis=1)).astype(np.int32)
        return LinearWeights(
            self.dense_w,
            np.ascontiguousarray(self.sparse_w[rows]),
            self.bias,
            self.classes,
            rows,
        )

    def save(self, path: Path, **extra: np.ndarray) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = {} if self.sparse_rows is None else {"sparse_rows": self.sparse_rows}
        np.savez_compressed(
            path,
            dense_w=self.dense_w,
            sparse_w=self.sparse_w,
            bias=self.bias,
            classes=np.array(self.classes),
            **rows,
            **extra,
        )

    @classmethod
    def load(cls, path: Path) -> tuple[LinearWeights, dict[str, np.ndarray]]:
        with np.load(path, allow_pickle=False) as data:
            weights = cls(
                data["dense_w"].astype(np.float32),
                data["sparse_w"].astype(np.float32),
                data["bias"].astype(np.float32),
                tuple(str(c) for c in data["classes"]),
                data["sparse_rows"].astype(np.int32) if "sparse_rows" in data.files else None,
            )
            extra = {
                k: data[k]
                for k in data.files
                if k not in {"dense_w", "sparse_w", "bias", "classes", "sparse_rows"}
            }
        if weights.sparse_rows is not None and len(weights.sparse_rows) != len(weights.sparse_w):
            raise ValueError(f"{path}: sparse_rows and sparse_w disagree in length")
        return weights, extra

    def _hashed(self, texts: Sequence[str], ngrams: HashedNgrams):
        """The texts' hashed n-grams, restricted to the kept rows on compacted weights."""
        hashed = ngrams.transform(texts)
        if self.sparse_rows is None:
            return hashed
        from scipy import sparse

        lookup = self._lookup_table()
        columns = lookup[hashed.indices]
        keep = columns >= 0
        indptr = np.concatenate([[0], np.cumsum(keep)])[hashed.indptr]
        return sparse.csr_matrix(
            (hashed.data[keep], columns[keep], indptr),
            shape=(hashed.shape[0], len(self.sparse_rows)),
        )

    def _lookup_table(self) -> np.ndarray:
        """Hashed column -> row of the compacted weights (-1: not kept)."""
        if self._lookup is None:
            lookup = np.full(2 * HASH_FEATURES, -1, dtype=np.int32)
            lookup[self.sparse_rows] = np.arange(len(self.sparse_rows), dtype=np.int32)
            self._lookup = lookup
        return self._lookup

    def probabilities_one(self, vector: np.ndarray, text: str, ngrams: HashedNgrams) -> np.ndarray:
        """``probabilities`` for one text, through the fast single-text hashing."""
        columns, values = ngrams.row(text)
        if self.sparse_rows is not None:  # compacted weights: only the kept hashed rows
            mapped = self._lookup_table()[columns]
            keep = mapped >= 0
            columns, values = mapped[keep], values[keep]
        logits = vector @ self.dense_w + values @ self.sparse_w[columns].astype(np.float64)
        logits = np.asarray(logits, dtype=np.float64) + self.bias
        logits -= logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def probabilities(
        self, vectors: np.ndarray, texts: Sequence[str], ngrams: HashedNgrams
    ) -> np.ndarray:
        logits = vectors @ self.dense_w + sparse_dot(self._hashed(texts, ngrams), self.sparse_w)
        logits = np.asarray(logits) + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


T = TypeVar("T")


class LoadedOnce(Generic[T]):
    """A process-wide object loaded on first use, under a lock; a load that fails is logged once
    (``failure``: what runs without it) and gives None from then on, never an exception."""

    def __init__(self, load: Callable[[], T], failure: str, logger: logging.Logger) -> None:
        self._load, self._failure, self._logger = load, failure, logger
        self._value: T | None = None
        self._failed = False
        self._lock = threading.Lock()

    def get(self) -> T | None:
        if self._value is None and not self._failed:
            with self._lock:
                if self._value is None and not self._failed:
                    try:
                        self._value = self._load()
                    except Exception as exc:
                        self._failed = True
                        self._logger.error("%s: %s", self._failure, exc, exc_info=False)
        return self._value


# -- what the learned layers (crisis, role-play) share around their training -------------------


def training_files(root: Path, globs: Sequence[str]) -> list[Path]:
    """The files each glob finds under ``root``: the globs in order, each one's files sorted."""
    files: list[Path] = []
    for pattern in globs:
        files.extend(sorted(root.glob(pattern)))
    return files


def text_key(text: str) -> str:
    """What makes two training texts the same (case and spacing aside): the same text twice
    would weigh double."""
    return " ".join(text.split()).lower()


def out_of_fold(
    features, labels: np.ndarray, n_classes: int, c: float, *, folds: int, seed: int
) -> np.ndarray:
    """(n, n_classes) probabilities, each example's from a model fitted without its fold (for
    thresholds chosen honestly and for cross-validated figures)."""
    from sklearn.model_selection import StratifiedKFold

    probs = np.zeros((len(labels), n_classes))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(labels)), labels):
        model = fit_logistic(features[train_idx], labels[train_idx], c)
        probs[test_idx] = model.predict_proba(features[test_idx])
    return probs


def load_layer(path: Path, layer: str, module: str) -> tuple[LinearWeights, dict[str, np.ndarray]]:
    """A trained layer's file (``layer``: whose it is); a missing file says how to build it
    (``module``: the one whose ``train`` command writes it)."""
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"{layer} {path} is missing: run `make model` (or `python -m {module} train`)."
        )
    return LinearWeights.load(Path(path))


def train_command(
    description: str, help_text: str, default_out: Path
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """A layer's command line: ``train [--out FILE]``; returns the parser and the ``train``
    command, for options of the layer's own."""
    parser = argparse.ArgumentParser(description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help=help_text)
    train.add_argument("--out", type=Path, default=default_out)
    return parser, train
