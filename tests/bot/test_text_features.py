"""The shared linear reader: compacted weights predict exactly as the full ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.text_features import (
    HashedNgrams,
    LinearWeights,
    feature_matrix,
    fit_compact,
    fit_logistic,
)

TEXTS = [
    "help me find my values",
    "what matters to me",
    "whose voice is this",
    "my favourite streamer said so",
    "i need to calm down",
    "i'm so angry i could scream",
] * 2
LABELS = ["values", "values", "voice", "voice", "calm", "calm"] * 2
UNSEEN = ["what do i care about", "a creator told me to buy it", "zzz qqq"]


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 8)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _full_weights() -> LinearWeights:
    """Weights on every column, fitted on TEXTS."""
    model = fit_logistic(feature_matrix(_vectors(len(TEXTS)), TEXTS), np.asarray(LABELS), 4.0)
    return LinearWeights.from_model(model, 8, sorted(set(LABELS)))


def _assert_same_probabilities(
    got: LinearWeights, expected: LinearWeights, seed: int, atol: float, texts: list[str] = UNSEEN
) -> None:
    ngrams = HashedNgrams()
    probe = _vectors(len(texts), seed=seed)
    np.testing.assert_allclose(
        got.probabilities(probe, texts, ngrams),
        expected.probabilities(probe, texts, ngrams),
        atol=atol,
    )


def test_compact_weights_predict_as_the_full_ones() -> None:
    full = _full_weights()
    compact = full.compact()
    assert compact.sparse_rows is not None
    assert len(compact.sparse_w) == len(compact.sparse_rows) < len(full.sparse_w) // 100
    _assert_same_probabilities(compact, full, seed=1, atol=1e-6)


def test_fitting_only_the_used_columns_matches_the_full_fit() -> None:
    full = _full_weights()
    fitted = fit_compact(_vectors(len(TEXTS)), TEXTS, LABELS, 4.0)
    assert fitted.classes == full.classes
    _assert_same_probabilities(fitted, full, seed=2, atol=1e-3)


def test_compact_weights_survive_saving(tmp_path: Path) -> None:
    weights = fit_compact(_vectors(len(TEXTS)), TEXTS, LABELS, 4.0)
    weights.save(tmp_path / "w.npz", note=np.array("x"))
    loaded, extra = LinearWeights.load(tmp_path / "w.npz")
    assert str(extra["note"]) == "x" and "sparse_rows" not in extra
    np.testing.assert_array_equal(loaded.sparse_rows, weights.sparse_rows)
    _assert_same_probabilities(loaded, weights, seed=3, atol=1e-7, texts=UNSEEN[:2])


def test_full_weights_still_load_without_rows(tmp_path: Path) -> None:
    full = _full_weights()
    full.save(tmp_path / "full.npz")
    loaded, _ = LinearWeights.load(tmp_path / "full.npz")
    assert loaded.sparse_rows is None


def test_the_used_columns_fit_is_sklearn_s_fit_on_every_column() -> None:
    from sklearn.linear_model import LogisticRegression

    vectors = _vectors(len(TEXTS))
    features = feature_matrix(vectors, TEXTS)
    labels = np.asarray(LABELS)
    model = fit_logistic(features, labels, 4.0)
    reference = LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced").fit(
        features, labels
    )
    assert model.coef_.shape == reference.coef_.shape
    assert list(model.classes_) == list(reference.classes_)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-4)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-4)
    unseen = feature_matrix(_vectors(len(UNSEEN), seed=3), UNSEEN)
    np.testing.assert_allclose(
        model.predict_proba(unseen), reference.predict_proba(unseen), atol=1e-5
    )
