"""The shared n-gram features: the fast one-text path gives exactly sklearn's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from bot.text_features import HASH_FEATURES, HashedNgrams, LinearWeights, sparse_dot

TEXTS = [
    "No, I can't do Saturday, sorry!",
    "ugh FINE. take it. you always get your way.",
    'lol "easy". sure, Helen',
    "Ça ne marche pas 🚫 😅🙃",
    "",
    "   ",
    "\x00\x01",
    "a",
    "no " * 400,
]


@pytest.fixture(scope="module")
def ngrams() -> HashedNgrams:
    return HashedNgrams()


@pytest.mark.parametrize("text", TEXTS)
def test_one_text_row_matches_the_vectorizer(ngrams: HashedNgrams, text: str) -> None:
    expected = ngrams.transform([text]).toarray()[0]
    columns, values = ngrams.row(text)
    got = np.zeros(2 * HASH_FEATURES)
    got[columns] += values
    assert np.array_equal(got, expected)
    assert len(set(columns.tolist())) == len(columns)


def test_sparse_dot_matches_scipy(ngrams: HashedNgrams) -> None:
    weights = np.random.default_rng(3).normal(size=(2 * HASH_FEATURES, 4)).astype(np.float32)
    rows = ngrams.transform(TEXTS)
    assert np.allclose(sparse_dot(rows, weights), rows @ weights, rtol=0, atol=1e-9)


def test_probabilities_one_matches_the_batch_path(ngrams: HashedNgrams) -> None:
    rng = np.random.default_rng(5)
    weights = LinearWeights(
        dense_w=rng.normal(size=(8, 3)).astype(np.float32),
        sparse_w=rng.normal(size=(2 * HASH_FEATURES, 3)).astype(np.float32),
        bias=np.array([0.1, -0.2, 0.3], dtype=np.float32),
        classes=("a", "b", "c"),
    )
    vectors = rng.normal(size=(len(TEXTS), 8)).astype(np.float32)
    batch = weights.probabilities(vectors, TEXTS, ngrams)
    for i, text in enumerate(TEXTS):
        assert np.allclose(weights.probabilities_one(vectors[i], text, ngrams), batch[i])


def test_loaded_once_loads_once_and_a_failure_is_logged_once(caplog) -> None:
    import logging

    from bot.text_features import LoadedOnce

    calls = []

    def load() -> str:
        calls.append(1)
        return "layer"

    once = LoadedOnce(load, "runs without it", logging.getLogger("test.once"))
    assert once.get() == once.get() == "layer" and len(calls) == 1

    def broken() -> str:
        calls.append(1)
        raise FileNotFoundError("models/x.npz is missing")

    failing = LoadedOnce(broken, "runs without it", logging.getLogger("test.once"))
    with caplog.at_level(logging.ERROR, logger="test.once"):
        assert failing.get() is None and failing.get() is None
    assert len(calls) == 2
    assert [r.getMessage() for r in caplog.records] == ["runs without it: models/x.npz is missing"]
