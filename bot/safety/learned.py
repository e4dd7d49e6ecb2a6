"""The crisis detector's learned second layer (issue 14, point 3).

The patterns (``detector.py``) are exact and auditable but know only the sentences someone wrote
them for. Beside them this layer reads the message as a whole: a logistic regression over the
shared sentence encoder's vector (``bot.encoder``) and hashed word and character n-grams of the
normalised text. It sorts a message into three classes: ``none``, ``check_in`` (the middle band
of the taxonomy: a passive wish, a goodbye, a burden statement, feeling trapped) and ``full``.
Either layer firing shows resources; the more serious tier wins.

Deterministic at run time: the weights are fixed numbers in ``models/crisis_layer.npz``, built
by ``python -m bot.safety.learned train`` (``make model`` does it when the training data
changed) from the labelled sets in :data:`TRAINING_GLOBS`, and the replies that say "safe" to the
question the crisis answer asks (:func:`safe_replies`) and the scored NLU rounds' first messages
(:func:`nlu_messages`); same input, same verdict.

Long messages: the whole text is read (the encoder sees its first 256 word pieces) and so is
every window of a few sentences, so one line that matters inside a long story is not averaged
away. The windows' vectors come from one batched pass; short messages (most) have no windows.

Nothing here logs or keeps a user's text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot import text_features
from bot.safety.yaml_data import PROJECT_ROOT, SafetyDataError, load_yaml

logger = logging.getLogger(__name__)

LAYER_PATH = PROJECT_ROOT / "models" / "crisis_layer.npz"
TRAINING_GLOBS = ("data/safety/training/*.yml", "tests/safety/crisis_*.yml")
# Replies to "Are you safe right now?" labelled "safe" in the folded safety-answer rounds: they
# share the question's words ("hurt myself", "the pills", "the police came") without a crisis.
SAFE_REPLY_GLOB = "tests/safety/safety_answer_sets/*.yml"
# First messages asking for a skill or a topic, none of them a crisis (the scored NLU blind
# rounds): "what do I want my life to be about?" is not a passive wish.
NLU_ROUND_GLOB = "tests/nlu/blind/*.yml"
CLASSES = ("none", "check_in", "full")
WINDOW_WORDS = 40
WINDOW_MIN_WORDS = 60  # texts shorter than this are read whole only
MAX_WINDOWS = 24
REGULARISATION = 4.0  # logistic regression C
DEFAULT_THRESHOLD = 0.5  # fire when P(none) is below this; the trained file carries its own


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # one of CLASSES
    source: str  # file name, for reports


@dataclass(frozen=True)
class LayerVerdict:
    fired: bool
    tier: str | None  # "check_in" or "full" when fired
    p_none: float


def windows(text: str) -> list[str]:
    """Half-overlapping windows of WINDOW_WORDS words of a long text (none for short ones)."""
    tokens = text.split()
    if len(tokens) < WINDOW_MIN_WORDS:
        return []
    step = WINDOW_WORDS // 2
    starts = list(range(0, len(tokens) - step, step))
    if len(starts) > MAX_WINDOWS:  # spread the windows we can afford over the whole text
        starts = [
            starts[round(i * (len(starts) - 1) / (MAX_WINDOWS - 1))] for i in range(MAX_WINDOWS)
        ]
    return [" ".join(tokens[i : i + WINDOW_WORDS]) for i in starts]


class LearnedLayer:
    """A trained layer: weights over [sentence vector | hashed n-grams] and its threshold."""

    def __init__(
        self,
        weights: text_features.LinearWeights,
        threshold: float,
        weak_threshold: float | None = None,
    ) -> None:
        if weights.classes != CLASSES:
            raise ValueError(f"the layer was trained for classes {weights.classes}, not {CLASSES}")
        self.weights = weights
        self.threshold = float(threshold)
        # The bar when only a weak pattern fired (data/safety/weak_patterns.yml): never higher.
        self.weak_threshold = max(self.threshold, float(weak_threshold or threshold))
        self._ngrams = text_features.HashedNgrams()

    @classmethod
    def load(cls, path: Path = LAYER_PATH) -> LearnedLayer:
        weights, extra = text_features.load_layer(
            path, "The crisis detector's learned layer", "bot.safety.learned"
        )
        weak = extra.get("weak_threshold")
        return cls(weights, float(extra["threshold"]), None if weak is None else float(weak))

    def save(self, path: Path = LAYER_PATH) -> None:
        self.weights.save(
            Path(path),
            threshold=np.float64(self.threshold),
            weak_threshold=np.float64(self.weak_threshold),
        )

    def probabilities(self, vectors: np.ndarray, normalized: Sequence[str]) -> np.ndarray:
        """(n, classes) probabilities for texts given their vectors and normalised forms."""
        return self.weights.probabilities(vectors, normalized, self._ngrams)

    def assess(self, text: str, normalize, *, weak_pattern: bool = False) -> LayerVerdict:
        """The verdict on one message (``normalize``: the detector's normaliser).

        ``weak_pattern``: a weak pattern (and no other) fired, so the lower bar applies.
        """
        from bot import encoder

        texts = [text]
        vectors = [encoder.embed(text)[None, :]]
        parts = windows(text)
        if parts:
            texts.extend(parts)
            vectors.append(encoder.get_encoder().encode(parts))
        probs = self.probabilities(np.vstack(vectors), [normalize(t) for t in texts])
        row = int(np.argmin(probs[:, 0]))
        p_none = float(probs[row, 0])
        if p_none >= (self.weak_threshold if weak_pattern else self.threshold):
            return LayerVerdict(False, None, p_none)
        tier = CLASSES[1 + int(np.argmax(probs[row, 1:]))]
        return LayerVerdict(True, tier, p_none)


_layer = text_features.LoadedOnce(
    LearnedLayer.load, "The crisis detector runs on its patterns only", logger
)


def default_layer() -> LearnedLayer | None:
    """The process's layer, or None (logged once, loudly) when its file is missing or broken."""
    return _layer.get()


# -- training ---------------------------------------------------------------------------------


WEAK_PATTERNS_PATH = PROJECT_ROOT / "data" / "safety" / "weak_patterns.yml"


def weak_pattern_ids(path: Path = WEAK_PATTERNS_PATH) -> frozenset[str]:
    """The pattern ids that fire only with the learned layer's agreement (see the file)."""
    data = load_yaml(path)
    weak = data.get("weak") if isinstance(data, dict) else None
    if not isinstance(weak, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in weak.items()
    ):
        raise SafetyDataError(path, "weak", "expected a mapping of pattern id -> reason")
    return frozenset(weak)


def _read_set(path: Path) -> list[Example]:
    """A labelled set's messages, read by the evaluation's own loader (signs from the taxonomy)."""
    from bot.safety.evaluate import CRISIS, load_set
    from bot.safety.taxonomy import default_taxonomy

    info, cases = load_set(path)
    if info.blind:
        raise SafetyDataError(path, "blind", "a blind round is never training data")
    middle = default_taxonomy().middle_band
    found = []
    for case in cases:
        if not case.text.strip():
            continue
        if case.group != CRISIS:
            label = "none"
        else:
            label = "check_in" if case.sign in middle else "full"
        found.append(Example(case.text, label, path.name))
    return found


def load_examples(paths: Iterable[Path]) -> list[Example]:
    examples: list[Example] = []
    seen: set[str] = set()
    for path in paths:
        for example in _read_set(path):
            key = text_features.text_key(example.text)
            if key not in seen:
                seen.add(key)
                examples.append(example)
    return examples


def safe_replies(strong: Callable[[str], bool], root: Path = PROJECT_ROOT) -> list[Example]:
    """The "safe" replies of the scored safety-answer rounds, as ``none`` examples.

    A reply a strong pattern fires on is left out (the patterns answer it whatever the layer
    says, and "none" would teach the layer the crisis words in it); so is a round still marked
    ``blind: true`` (not scored yet).
    """
    from bot.safety.evaluate_answers import load_set

    found = []
    for path in sorted(root.glob(SAFE_REPLY_GLOB)):
        if (load_yaml(path) or {}).get("blind") is True:
            continue
        for text, label in load_set(path):
            if label == "safe" and text.strip() and not strong(text):
                found.append(Example(text, "none", path.name))
    return found


def nlu_messages(strong: Callable[[str], bool], root: Path = PROJECT_ROOT) -> list[Example]:
    """The messages of the scored NLU blind rounds, as ``none`` examples (none is a crisis: the
    writers were asked for none). A message a strong pattern fires on is left out, as in
    :func:`safe_replies`."""
    found = []
    for path in sorted(root.glob(NLU_ROUND_GLOB)):
        data = load_yaml(path) or {}
        if data.get("blind") is True:
            continue
        for index, item in enumerate(data.get("messages") or []):
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, str):
                raise SafetyDataError(path, f"messages[{index}].text", "a text")
            if text.strip() and not strong(text):
                found.append(Example(text, "none", path.name))
    return found


def _features(examples: Sequence[Example], normalize):
    from bot import encoder

    texts = [e.text for e in examples]
    return text_features.feature_matrix(
        encoder.get_encoder().encode(texts), [normalize(t) for t in texts]
    )


def _fit(features, labels: np.ndarray):
    return text_features.fit_logistic(features, labels, REGULARISATION)


def _threshold_for(
    p_none: np.ndarray,
    is_crisis: np.ndarray,
    fired: np.ndarray,
    spent: np.ndarray,
    false_alarm_budget: float,
) -> float:
    """The highest P(none) cut that keeps the layer's own false alarms within the budget.

    Fire when ``p_none < threshold``. ``fired``: what fires already (the patterns, and weak
    patterns the layer confirmed); ``spent``: the part of it the layer is answerable for (the
    confirmed weak patterns). The strong patterns' false alarms are theirs, not the layer's:
    counting them would leave a layer that never fires once the patterns spend the budget.
    """
    negatives = ~is_crisis
    allowed = int(np.floor(false_alarm_budget * negatives.sum())) - int(spent[negatives].sum())
    # The layer may add at most `allowed` false alarms among the negatives nothing fired on.
    candidates = np.sort(p_none[negatives & ~fired])
    if allowed <= 0 or not len(candidates):
        return float(candidates[0]) if len(candidates) else DEFAULT_THRESHOLD
    # Fire on the `allowed` lowest-scoring negatives, not on the next one.
    return float(candidates[allowed]) if allowed < len(candidates) else float(np.nextafter(1, 2))


WEAK_GRID = tuple(round(x, 2) for x in np.arange(0.05, 1.0, 0.05))


def choose_thresholds(
    p_none: np.ndarray,
    is_crisis: np.ndarray,
    strong: np.ndarray,
    weak_only: np.ndarray,
    false_alarm_budget: float,
) -> tuple[float, float]:
    """(threshold, weak_threshold) with the best union recall, the layer's own false alarms
    (beyond the strong patterns') within the budget."""
    best = (-1.0, 0.0, 0.0)
    for weak_threshold in (0.0, *WEAK_GRID):
        confirmed = weak_only & ~strong & (p_none < weak_threshold)
        threshold = _threshold_for(
            p_none, is_crisis, strong | confirmed, confirmed, false_alarm_budget
        )
        weak_threshold = max(weak_threshold, threshold)
        union = strong | (p_none < threshold) | (weak_only & (p_none < weak_threshold))
        if (union & ~strong)[~is_crisis].mean() > false_alarm_budget + 1e-9:
            continue
        recall = union[is_crisis].mean()
        if recall > best[0]:
            best = (recall, threshold, weak_threshold)
    if best[0] < 0:  # cannot happen with a threshold at the lowest score; fire on nothing more
        return float(np.min(p_none)), float(np.min(p_none))
    return best[1], best[2]


def train(
    examples: Sequence[Example],
    normalize,
    matched_patterns,
    *,
    false_alarm_budget: float = 0.015,
    weak: frozenset[str] | None = None,
) -> tuple[LearnedLayer, dict[str, float]]:
    """Fit the layer on every example; the thresholds come from out-of-fold scores.

    ``matched_patterns(text) -> ids`` is the pattern layer: the thresholds are chosen for the
    union of both layers; the layer adds at most ``false_alarm_budget`` of the negatives as
    false alarms beyond what the strong patterns fire on.
    """
    from bot import encoder

    weak = weak_pattern_ids() if weak is None else weak
    features = _features(examples, normalize)
    labels = np.array([CLASSES.index(e.label) for e in examples])
    # Out-of-fold P(none) for every example, to choose the threshold honestly.
    p_none = text_features.out_of_fold(
        features, labels, len(CLASSES), REGULARISATION, folds=5, seed=2026
    )[:, 0]
    is_crisis = labels != 0
    matches = [set(matched_patterns(e.text)) for e in examples]
    strong = np.array([bool(m - weak) for m in matches])
    weak_only = np.array([bool(m) and not (m - weak) for m in matches])
    threshold, weak_threshold = choose_thresholds(
        p_none, is_crisis, strong, weak_only, false_alarm_budget
    )
    union = strong | (p_none < threshold) | (weak_only & (p_none < weak_threshold))
    patterns = strong | weak_only
    stats = {
        "examples": float(len(examples)),
        "crisis": float(is_crisis.sum()),
        "patterns_recall": float(patterns[is_crisis].mean()),
        "patterns_false_alarms": float(patterns[~is_crisis].mean()),
        "cv_union_recall": float(union[is_crisis].mean()),
        "cv_union_false_alarms": float(union[~is_crisis].mean()),
        "threshold": threshold,
        "weak_threshold": weak_threshold,
    }
    model = _fit(features, labels)
    weights = text_features.LinearWeights.from_model(model, encoder.DIMENSION, CLASSES)
    return LearnedLayer(weights, threshold, weak_threshold), stats


def main(argv: list[str] | None = None) -> int:
    parser, train_cmd = text_features.train_command(
        "Train the crisis detector's learned layer.",
        "train on the labelled sets and write the layer",
        LAYER_PATH,
    )
    train_cmd.add_argument("--false-alarm-budget", type=float, default=0.015)
    args = parser.parse_args(argv)

    from bot.safety.detector import default_detector

    detector = default_detector()
    weak = weak_pattern_ids()
    examples = load_examples(text_features.training_files(PROJECT_ROOT, TRAINING_GLOBS))
    seen = {text_features.text_key(e.text) for e in examples}

    def strong(text: str) -> bool:
        return bool(set(detector.analyse(text).matched) - weak)

    for example in [*safe_replies(strong), *nlu_messages(strong)]:
        if text_features.text_key(example.text) not in seen:
            examples.append(example)
    layer, stats = train(
        examples,
        detector.normalize,
        lambda text: detector.analyse(text).matched,
        false_alarm_budget=args.false_alarm_budget,
    )
    layer.save(args.out)
    print(
        f"crisis layer: {int(stats['examples'])} examples ({int(stats['crisis'])} crisis). "
        f"Patterns alone: recall {stats['patterns_recall']:.3f}, false alarms "
        f"{stats['patterns_false_alarms']:.3f}. Patterns + layer, out of fold: recall "
        f"{stats['cv_union_recall']:.3f}, false alarms {stats['cv_union_false_alarms']:.3f} "
        f"(fires at P(none) < {stats['threshold']:.3f}, or < {stats['weak_threshold']:.3f} "
        f"beside a weak pattern). Written to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
