"""The assessor's learned second opinion (issue 16): a classifier over the whole reply.

The rules (``assessor.py``) read a reply word by word and can show the words behind every
verdict, but they know only the phrasings someone wrote down. Sarcasm without a rude word
("Oh cool, didn't know I lived in a hostel"), a refusal in words nobody listed ("It won't be
mine") and a no buried in a new kind of padding slip past them. Beside them this layer reads the
reply as a whole: a multinomial logistic regression over the shared sentence encoder's vector
(``bot.encoder``) and hashed word and character n-grams (``bot.text_features``), trained on the
labelled replies in :data:`TRAINING_GLOBS`, never on a blind round before its first score.

It overrules the rules only when it is very sure: each label has a confidence threshold that,
out of fold, at most :data:`OVERRIDE_BUDGET` of the replies with another label reach. The
thresholds, the weights and the cross-validated figures are fixed numbers in
``models/roleplay_layer.npz``, built by ``python -m bot.roleplay.learned train`` (``make model``
does it when the training data changed): same input, same verdict.

When it calls a reply aggressive and the rules found no hostile words, it still names words: the
sentence whose n-grams weigh most towards that label (:meth:`RoleplayLayer.key_sentence`).

Nothing here logs or keeps a user's text.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot import text_features
from bot.roleplay.assessor import LABELS
from bot.roleplay.content import PROJECT_ROOT, ContentError, read_yaml
from bot.roleplay.evaluate import LabelledReply, load_labelled, report_to_dict, score

logger = logging.getLogger(__name__)

LAYER_PATH = PROJECT_ROOT / "models" / "roleplay_layer.npz"
# Blind rounds join only once scored and marked ``folded: true`` (their first score stays in
# their header); a round that is merely blind is refused.
TRAINING_GLOBS = (
    "data/roleplay/training/*.yml",
    "tests/roleplay/replies*.yml",
    "tests/roleplay/blind/*.yml",
)
REGULARISATION = 4.0  # logistic regression C
OVERRIDE_BUDGET = 0.02  # share of other labels' replies (out of fold) allowed above a threshold
MIN_THRESHOLD = 0.7  # and never below this: the rules stay the default voice
FOLDS = 5
SEED = 2026
_SENTENCE_RE = re.compile(r"[^.!?\n…]+[.!?…]*")
KEY_SENTENCE_MAX = 120


@dataclass(frozen=True)
class Example:
    reply: LabelledReply
    source: str  # file name, for reports


@dataclass(frozen=True)
class LayerReading:
    """The layer's view of one reply: its probabilities, its best label, and whether it is sure."""

    probabilities: dict[str, float]
    label: str
    confident: bool


class RoleplayLayer:
    """Trained weights over [sentence vector | hashed n-grams], with per-label thresholds."""

    def __init__(
        self,
        weights: text_features.LinearWeights,
        thresholds: dict[str, float],
        report: dict[str, Any] | None = None,
    ) -> None:
        if weights.classes != LABELS:
            raise ValueError(f"the layer was trained for labels {weights.classes}, not {LABELS}")
        self.weights = weights
        self.thresholds = {label: float(thresholds[label]) for label in LABELS}
        self.report = report or {}
        self._ngrams = text_features.HashedNgrams()
        self._key_rows = self._contrast_rows()

    def _contrast_rows(self) -> np.ndarray:
        """Per label: its n-gram weights minus the mean of the others (what pulls towards it)."""
        sparse = self.weights.sparse_w
        total = sparse.sum(axis=1, keepdims=True)
        others = (total - sparse) / (len(LABELS) - 1)
        return np.ascontiguousarray(sparse - others)

    @classmethod
    def load(cls, path: Path = LAYER_PATH) -> RoleplayLayer:
        weights, extra = text_features.load_layer(
            path, "The role-play assessor's learned layer", "bot.roleplay.learned"
        )
        thresholds = dict(zip(LABELS, (float(v) for v in extra["thresholds"]), strict=True))
        report = json.loads(str(extra["report"])) if "report" in extra else {}
        return cls(weights, thresholds, report)

    def save(self, path: Path = LAYER_PATH) -> None:
        self.weights.save(
            Path(path),
            thresholds=np.array([self.thresholds[label] for label in LABELS]),
            report=np.array(json.dumps(self.report, sort_keys=True)),
        )

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        return self.weights.probabilities(vectors, texts, self._ngrams)

    def read(self, text: str, vector: np.ndarray | None = None) -> LayerReading:
        """The layer's reading of one reply (``vector``: its encoder vector, if already made)."""
        if vector is None:
            from bot import encoder

            vector = encoder.embed(text)
        vector = np.asarray(vector, dtype=np.float32)
        return reading_of(
            self.weights.probabilities_one(vector, text, self._ngrams), self.thresholds
        )

    def key_sentence(self, text: str, label: str, avoid: Sequence[str] = ()) -> str | None:
        """The sentence of ``text`` whose n-grams pull hardest towards ``label``.

        Sentences that are nothing but one of ``avoid`` (the rules' words for the no: a bare
        "No." says nothing about a jab) are passed over unless nothing else is left.
        """
        sentences = [s.strip() for s in _SENTENCE_RE.findall(text) if s.strip()]
        skip = {_bare(phrase) for phrase in avoid}
        sentences = [s for s in sentences if _bare(s) not in skip] or sentences
        if not sentences:
            return None
        column = self._key_rows[:, LABELS.index(label)]
        scores = []
        for sentence in sentences:
            columns, values = self._ngrams.row(sentence)
            scores.append(float(values @ column[columns]))
        best = sentences[int(np.argmax(scores))]
        if len(best) > KEY_SENTENCE_MAX:
            best = best[: KEY_SENTENCE_MAX - 1].rstrip() + "…"
        return best


def _bare(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def reading_of(probs: np.ndarray, thresholds: dict[str, float]) -> LayerReading:
    best = int(np.argmax(probs))
    label = LABELS[best]
    return LayerReading(
        probabilities={name: float(p) for name, p in zip(LABELS, probs, strict=True)},
        label=label,
        confident=bool(probs[best] >= thresholds[label]),
    )


_layer = text_features.LoadedOnce(
    RoleplayLayer.load, "The role-play assessor runs on its rules only", logger
)


def default_layer() -> RoleplayLayer | None:
    """The process's layer, or None (logged once, loudly) when its file is missing or broken."""
    return _layer.get()


# -- training ---------------------------------------------------------------------------------


def load_examples(paths: Iterable[Path]) -> list[Example]:
    """Labelled replies from every file, each text once; a blind round is refused."""
    examples: list[Example] = []
    seen: set[str] = set()
    for path in paths:
        data = read_yaml(path)
        if isinstance(data, dict) and data.get("blind") and data.get("folded") is not True:
            raise ContentError(
                path, "blind", "a blind round is never training data until it is scored and folded"
            )
        for reply in load_labelled(path):
            key = text_features.text_key(reply.text)
            if key not in seen:
                seen.add(key)
                examples.append(Example(reply, path.name))
    return examples


def thresholds_for(probs: np.ndarray, labels: np.ndarray, budget: float) -> dict[str, float]:
    """Per label, the confidence at most ``budget`` of the other labels' replies reach."""
    out = {}
    for index, label in enumerate(LABELS):
        others = np.sort(probs[labels != index, index])[::-1]
        allowed = int(np.floor(budget * len(others)))
        cut = others[allowed] if allowed < len(others) else 0.0
        out[label] = float(max(MIN_THRESHOLD, np.nextafter(cut, 2.0)))
    return out


def train(
    examples: Sequence[Example], *, budget: float = OVERRIDE_BUDGET
) -> tuple[RoleplayLayer, np.ndarray]:
    """Fit on every example; thresholds from out-of-fold probabilities (also returned)."""
    from bot import encoder

    texts = [e.reply.text for e in examples]
    features = text_features.feature_matrix(encoder.get_encoder().encode(texts), texts)
    labels = np.array([LABELS.index(e.reply.label) for e in examples])
    probs = text_features.out_of_fold(
        features, labels, len(LABELS), REGULARISATION, folds=FOLDS, seed=SEED
    )
    thresholds = thresholds_for(probs, labels, budget)
    model = text_features.fit_logistic(features, labels, REGULARISATION)
    weights = text_features.LinearWeights.from_model(model, encoder.DIMENSION, LABELS)
    return RoleplayLayer(weights, thresholds), probs


def cross_validated_report(
    examples: Sequence[Example], probs: np.ndarray, thresholds: dict[str, float]
) -> dict[str, Any]:
    """Label and feature scores of the layer alone and of rules + layer, out of fold."""
    from bot import spacy_pipeline
    from bot.roleplay.assessor import Assessor, PatternSet, combine

    rules = Assessor(spacy_pipeline.load(), PatternSet())  # the rules alone, no layer
    replies = [e.reply for e in examples]
    readings = [reading_of(row, thresholds) for row in probs]
    ruled = [rules.assess_rules(r.text, r.request) for r in replies]
    joined = [combine(rule, reading) for rule, reading in zip(ruled, readings, strict=True)]

    def both(picked: list[int]) -> dict[str, Any]:
        chosen = [replies[i] for i in picked]
        return {
            "layer_alone": report_to_dict(score(chosen, [readings[i].label for i in picked])),
            "rules_alone": report_to_dict(
                score(chosen, [ruled[i].label for i in picked], [ruled[i].features for i in picked])
            ),
            "rules_and_layer": report_to_dict(
                score(
                    chosen, [joined[i].label for i in picked], [joined[i].features for i in picked]
                )
            ),
        }

    sources = sorted({e.source for e in examples})
    return {
        "folds": FOLDS,
        "examples": len(examples),
        "budget": OVERRIDE_BUDGET,
        "thresholds": thresholds,
        "overrides": sum(1 for j in joined if j.overruled),
        **both(list(range(len(examples)))),
        "by_source": {
            source: both([i for i, e in enumerate(examples) if e.source == source])
            for source in sources
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser, _ = text_features.train_command(
        "Train the role-play assessor's learned layer.",
        "train on the labelled replies and write the layer",
        LAYER_PATH,
    )
    args = parser.parse_args(argv)

    examples = load_examples(text_features.training_files(PROJECT_ROOT, TRAINING_GLOBS))
    layer, probs = train(examples)
    layer.report = cross_validated_report(examples, probs, layer.thresholds)
    layer.save(args.out)
    alone = layer.report["layer_alone"]["macro_f1"]
    joined = layer.report["rules_and_layer"]["macro_f1"]
    print(
        f"role-play layer: {len(examples)} replies; out of {FOLDS} folds: layer alone macro-F1 "
        f"{alone:.3f}, rules + layer {joined:.3f} ({layer.report['overrides']} overrides). "
        f"Written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
