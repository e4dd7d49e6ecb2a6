"""Cross-validate the sentence classifier on the training data, fast (no Rasa training runs).

``python -m bot.nlu.cv [--data data/nlu] [--folds 5] [--c 2 8 32] [--features both]``

Every example is encoded once; each fold then fits only the logistic regression. Prints, per
setting, accuracy, macro and weighted intent F1, the right intent among the top three, and for
a few fallback thresholds the share of messages that would fall back, the accuracy of the rest
and how often the right intent is among the two or three offered in "did you mean".

This is for choosing the classifier's settings; ``make nlu-report`` runs Rasa's own
cross-validation of the whole pipeline (``rasa test nlu --cross-validation``) beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6)
AMBIGUITY = (0.0, 0.05, 0.08)  # FallbackClassifier's ambiguity_threshold: top two closer than it


def load_pairs(data: Path) -> tuple[list[str], list[str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.nlu.sentence_classifier import training_pairs

    return training_pairs(load_data(str(data)))


def out_of_fold(
    texts: list[str], labels: np.ndarray, vectors: np.ndarray, c: float, folds: int, features: str
) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold probabilities (n, classes) and the class order."""
    from sklearn.model_selection import StratifiedKFold

    from bot.text_features import HashedNgrams, fit_compact, fit_logistic

    classes = sorted(set(labels))
    ngrams = HashedNgrams()
    if features == "ngrams":  # the same fit with the vector part blanked out
        vectors = np.zeros_like(vectors)
    text_array = np.asarray(texts, dtype=object)
    probabilities = np.zeros((len(texts), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=2026)
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        if features == "vector":
            model = fit_logistic(vectors[train], labels[train], c)
            fold_classes, fold = list(model.classes_), model.predict_proba(vectors[test])
        else:
            weights = fit_compact(vectors[train], list(text_array[train]), list(labels[train]), c)
            fold_classes = list(weights.classes)
            fold = weights.probabilities(vectors[test], list(text_array[test]), ngrams)
        columns = [classes.index(k) for k in fold_classes]
        probabilities[np.ix_(test, columns)] = fold
    return probabilities, classes


def summary(
    probabilities: np.ndarray,
    classes: list[str],
    labels: np.ndarray,
    ambiguity: tuple[float, ...] = (0.0,),
) -> list[str]:
    from sklearn.metrics import f1_score

    order = np.argsort(-probabilities, axis=1)
    predicted = np.asarray(classes)[order[:, 0]]
    top3 = np.asarray(classes)[order[:, :3]]
    right = predicted == labels
    lines = [
        f"  accuracy {right.mean():.3f}  macro F1 {f1_score(labels, predicted, average='macro'):.3f}"
        f"  weighted F1 {f1_score(labels, predicted, average='weighted'):.3f}"
        f"  right among top 3 {np.mean([lab in row for lab, row in zip(labels, top3, strict=True)]):.3f}"
    ]
    ordered = np.sort(probabilities, axis=1)
    confidence, margin = ordered[:, -1], ordered[:, -1] - ordered[:, -2]
    for a in ambiguity:
        for t in THRESHOLDS:
            low = (confidence < t) | (margin < a)
            kept = ~low
            offered = (
                np.mean([lab in row for lab, row in zip(labels[low], top3[low], strict=True)])
                if low.any()
                else 0
            )
            lines.append(
                f"  threshold {t:.2f} ambiguity {a:.2f}: falls back {low.mean():.3f}, accuracy "
                f"of the rest {right[kept].mean() if kept.any() else 0:.3f}, right among 3 "
                f"offered when unsure {offered:.3f}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=PROJECT_ROOT / "data" / "nlu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--c", type=float, nargs="+", default=[8.0])
    parser.add_argument("--features", choices=["both", "vector", "ngrams"], default="both")
    parser.add_argument("--confusions", action="store_true", help="list the commonest confusions")
    args = parser.parse_args(argv)

    from bot import encoder

    texts, labels = load_pairs(args.data)
    labels_array = np.asarray(labels)
    started = time.perf_counter()
    vectors = encoder.get_encoder().encode(texts)
    print(
        f"{len(texts)} examples, {len(set(labels))} intents; encoded in "
        f"{time.perf_counter() - started:.1f} s; {args.folds}-fold, features: {args.features}"
    )
    for c in args.c:
        started = time.perf_counter()
        probabilities, classes = out_of_fold(
            texts, labels_array, vectors, c, args.folds, args.features
        )
        print(f"C={c:g} ({time.perf_counter() - started:.0f} s)")
        print("\n".join(summary(probabilities, classes, labels_array, AMBIGUITY)))
        if args.confusions:
            from collections import Counter

            predicted = np.asarray(classes)[probabilities.argmax(axis=1)]
            pairs = Counter(
                (t, p) for t, p in zip(labels_array, predicted, strict=True) if t != p
            ).most_common(15)
            for (target, guess), n in pairs:
                print(f"    {n:3}  {target} -> {guess}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
