"""The crisis detector's learned second layer: training, its file, windows, and how its
verdict joins the patterns' (either fires; full beats check-in; deterministic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.safety import learned
from bot.safety.detector import LEARNED_CATEGORY, TIER_CHECK_IN, TIER_FULL, CrisisDetector
from bot.safety.yaml_data import SafetyDataError

TINY = {
    "full": [
        "i took all the pills in the cupboard",
        "im going to end my life tonight",
        "i have been cutting my arms again",
        "he hit me and locked me in",
        "i want to kill myself",
        "swallowed the whole packet an hour ago",
    ],
    "check_in": [
        "i wish i could just not wake up",
        "everyone would be better off without me",
        "this is my last message, thank you for everything",
        "i feel like such a burden to all of them",
    ],
    "none": [
        "i want to figure out what matters to me",
        "can we practise saying no to my boss",
        "my sister borrowed my car again",
        "what is codependency",
        "i feel a bit sad today",
        "this commute is killing me",
        "help me write a script for my mum",
        "i keep buying what streamers recommend",
        "how do i set a boundary",
        "thanks that helped",
    ],
}


def _examples() -> list[learned.Example]:
    return [learned.Example(t, label, "tiny") for label, texts in TINY.items() for t in texts]


@pytest.fixture(scope="module")
def tiny_layer(detector: CrisisDetector) -> learned.LearnedLayer:
    layer, stats = learned.train(
        _examples(), detector.normalize, lambda text: (), false_alarm_budget=0.0
    )
    assert stats["examples"] == sum(len(v) for v in TINY.values())
    return layer


def test_the_layer_round_trips_through_its_file(
    tiny_layer: learned.LearnedLayer, detector: CrisisDetector, tmp_path: Path
) -> None:
    path = tmp_path / "layer.npz"
    tiny_layer.save(path)
    again = learned.LearnedLayer.load(path)
    text = "i wish i could just not wake up tomorrow"
    first = tiny_layer.assess(text, detector.normalize)
    second = again.assess(text, detector.normalize)
    assert first == second  # same input, same verdict
    assert again.threshold == pytest.approx(tiny_layer.threshold)


def test_a_missing_layer_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make model"):
        learned.LearnedLayer.load(tmp_path / "nope.npz")


def test_a_layer_for_other_classes_is_refused(
    tiny_layer: learned.LearnedLayer, tmp_path: Path
) -> None:
    path = tmp_path / "layer.npz"
    tiny_layer.save(path)
    data = dict(np.load(path))
    data["classes"] = np.array(["none", "crisis", "other"])
    np.savez(path, **data)
    with pytest.raises(ValueError, match="classes"):
        learned.LearnedLayer.load(path)


def test_the_threshold_keeps_the_layer_s_own_false_alarms_within_the_budget() -> None:
    p_none = np.array([0.1, 0.2, 0.3, 0.05, 0.15, 0.4, 0.9, 0.95])
    is_crisis = np.array([True, True, True, False, False, False, False, False])
    patterns = np.array([False, False, False, True, False, False, False, False])
    confirmed = np.array([False, False, False, False, False, True, False, False])
    # 5 negatives, budget 40% = 2 false alarms the layer answers for. The strong pattern's one
    # is not the layer's; a weak pattern the layer confirmed is: the layer may add one more.
    threshold = learned._threshold_for(p_none, is_crisis, patterns | confirmed, confirmed, 0.4)
    fired = patterns | confirmed | (p_none < threshold)
    assert (fired & ~patterns)[~is_crisis].sum() == 2
    assert fired[is_crisis].all()


def test_strong_patterns_that_spend_the_budget_leave_the_layer_its_own() -> None:
    p_none = np.array([0.1, 0.2, 0.05, 0.15, 0.5, 0.9])
    is_crisis = np.array([True, True, False, False, False, False])
    strong = np.array([False, False, True, True, True, False])  # 3 of 4 negatives: over budget
    weak_only = np.zeros(6, bool)
    t, _ = learned.choose_thresholds(p_none, is_crisis, strong, weak_only, 0.25)
    assert (p_none[is_crisis] < t).all(), "the layer still fires on the crisis messages"
    assert ((p_none < t) & ~strong)[~is_crisis].sum() <= 1


def test_windows_only_for_long_texts_and_bounded() -> None:
    assert learned.windows("short message about my day") == []
    long_text = " ".join(f"word{i}" for i in range(5000))
    parts = learned.windows(long_text)
    assert 1 < len(parts) <= learned.MAX_WINDOWS
    assert parts[-1].split()[-1] in {f"word{i}" for i in range(4900, 5000)}  # reaches the end


def test_a_blind_round_is_never_training_data(tmp_path: Path) -> None:
    path = tmp_path / "blind.yml"
    path.write_text('blind: true\ncrisis:\n  - {text: "x", sign: intent}\n', encoding="utf-8")
    with pytest.raises(SafetyDataError, match="blind"):
        learned.load_examples([path])


def test_training_sets_read_every_format(tmp_path: Path) -> None:
    path = tmp_path / "set.yml"
    path.write_text(
        "signs: {old_category: active_ideation}\n"
        "crisis:\n  old_category: ['i want to die']\n"
        "messages:\n"
        "  - {text: 'i wish i would not wake up', sign: passive_wish}\n"
        "  - {text: 'dye my hair', kind: lookalike_words}\n"
        "non_crisis:\n  - {text: 'this commute is killing me', kind: idiom}\n",
        encoding="utf-8",
    )
    labels = {e.text: e.label for e in learned.load_examples([path])}
    assert labels == {
        "i want to die": "full",
        "i wish i would not wake up": "check_in",
        "dye my hair": "none",
        "this commute is killing me": "none",
    }


class _Fixed:
    """A layer stand-in with a fixed verdict, to test how the detector joins the two."""

    def __init__(self, verdict: learned.LayerVerdict) -> None:
        self.verdict = verdict

    def assess(self, text: str, normalize, *, weak_pattern: bool = False) -> learned.LayerVerdict:
        return self.verdict


@pytest.mark.parametrize(
    ("text", "verdict", "crisis", "tier"),
    [
        ("what is codependency", learned.LayerVerdict(False, None, 0.9), False, TIER_FULL),
        ("what is codependency", learned.LayerVerdict(True, "check_in", 0.1), True, TIER_CHECK_IN),
        ("what is codependency", learned.LayerVerdict(True, "full", 0.1), True, TIER_FULL),
        # The patterns found a full-band crisis: the layer cannot lower it to a check-in.
        ("I want to kill myself", learned.LayerVerdict(True, "check_in", 0.1), True, TIER_FULL),
        ("I want to kill myself", learned.LayerVerdict(False, None, 0.9), True, TIER_FULL),
    ],
)
def test_either_layer_fires_and_full_beats_check_in(
    detector: CrisisDetector, text: str, verdict, crisis: bool, tier: str
) -> None:
    joined = CrisisDetector(layer=_Fixed(verdict))
    joined._compiled = detector._ensure_loaded()  # share the loaded patterns
    result = joined.detect(text)
    assert result.is_crisis is crisis
    if crisis:
        assert result.tier == tier
    assert (LEARNED_CATEGORY in result.categories) is verdict.fired


@pytest.mark.model
def test_the_built_layer_is_what_the_default_detector_uses() -> None:
    if not learned.LAYER_PATH.is_file():
        pytest.fail(f"{learned.LAYER_PATH} is missing: `make model` builds it before the tests")
    from bot.safety.detector import default_detector

    assert default_detector().layer is not None


class _Scored:
    """A layer stand-in that fires below its bars like the real one, from a fixed P(none)."""

    def __init__(self, p_none: float, threshold: float, weak_threshold: float) -> None:
        self.p_none, self.threshold, self.weak_threshold = p_none, threshold, weak_threshold

    def assess(self, text: str, normalize, *, weak_pattern: bool = False) -> learned.LayerVerdict:
        bar = self.weak_threshold if weak_pattern else self.threshold
        fired = self.p_none < bar
        return learned.LayerVerdict(fired, "full" if fired else None, self.p_none)


@pytest.mark.parametrize(
    ("p_none", "crisis"),
    [(0.9, False), (0.5, True), (0.05, True)],  # bars: 0.1 alone, 0.6 beside a weak pattern
)
def test_a_weak_pattern_alone_needs_the_layer(
    detector: CrisisDetector, p_none: float, crisis: bool
) -> None:
    text = "my brother died by suicide four years ago and this week is the anniversary"
    assert set(detector.analyse(text).matched) <= learned.weak_pattern_ids()
    joined = CrisisDetector(layer=_Scored(p_none, 0.1, 0.6))
    joined._compiled = detector._ensure_loaded()
    assert joined.detect(text).is_crisis is crisis


def test_a_strong_pattern_needs_no_layer(detector: CrisisDetector) -> None:
    joined = CrisisDetector(layer=_Scored(0.99, 0.1, 0.6))
    joined._compiled = detector._ensure_loaded()
    assert joined.detect("i am going to kill myself tonight").is_crisis


def test_every_weak_pattern_exists(detector: CrisisDetector) -> None:
    ids = {entry.id for entry in detector.entries}
    assert learned.weak_pattern_ids() <= ids


def test_thresholds_fit_the_budget_with_weak_patterns() -> None:
    rng = np.random.default_rng(0)
    is_crisis = np.array([True] * 50 + [False] * 200)
    p_none = np.where(is_crisis, rng.uniform(0, 0.6, 250), rng.uniform(0.2, 1, 250))
    strong = np.zeros(250, bool)
    strong[:20] = True
    weak_only = np.zeros(250, bool)
    weak_only[20:35] = True
    weak_only[50:70] = True  # weak patterns fire on 20 negatives too
    t, tw = learned.choose_thresholds(p_none, is_crisis, strong, weak_only, 0.02)
    union = strong | (p_none < t) | (weak_only & (p_none < tw))
    assert (union & ~strong)[~is_crisis].mean() <= 0.02
    assert tw >= t
    assert union[is_crisis].mean() >= strong[is_crisis].mean()


def _write_rounds(folder: Path, rounds: dict[str, str]) -> None:
    """Round files (name: text) in ``folder``, as the repository keeps them."""
    folder.mkdir(parents=True)
    for name, text in rounds.items():
        (folder / name).write_text(text)


def test_safe_replies_become_negatives_unless_a_pattern_or_a_blind_round_says_otherwise(
    tmp_path: Path,
) -> None:
    _write_rounds(
        tmp_path / "tests" / "safety" / "safety_answer_sets",
        {
            "round1_blind.yml": "replies:\n"
            '  - {text: "safe. at home. in bed.", label: safe}\n'
            '  - {text: "no", label: not_safe}\n'
            '  - {text: "what number?", label: unclear}\n'
            '  - {text: "im ok now but i cut myself earlier", label: safe}\n',
            "round9_blind.yml": 'blind: true\nreplies:\n  - {text: "yes im fine", label: safe}\n',
        },
    )
    found = learned.safe_replies(lambda text: "cut" in text, root=tmp_path)
    assert found == [learned.Example("safe. at home. in bed.", "none", "round1_blind.yml")]


def test_the_repository_s_safe_replies_are_read() -> None:
    found = learned.safe_replies(lambda text: False)
    assert len(found) >= 200 and {e.label for e in found} == {"none"}


def test_the_nlu_rounds_first_messages_are_negatives(tmp_path: Path) -> None:
    _write_rounds(
        tmp_path / "tests" / "nlu" / "blind",
        {
            "round1.yml": "messages:\n"
            '  - {text: "what do i want my life to be about", label: values}\n'
            '  - {text: "help me stop cutting my mum off mid-sentence", label: wise_mind}\n',
            "round9.yml": 'blind: true\nmessages:\n  - {text: "hi", label: help}\n',
        },
    )
    found = learned.nlu_messages(lambda text: "cutting" in text, root=tmp_path)
    assert found == [learned.Example("what do i want my life to be about", "none", "round1.yml")]
    assert len(learned.nlu_messages(lambda text: False)) >= 1000
