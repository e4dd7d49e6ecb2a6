"""The assessor's learned layer: thresholds, how it joins the rules, training and its file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot import spacy_pipeline
from bot.roleplay import learned
from bot.roleplay.assessor import LABELS, Assessment, Assessor, PatternSet, combine
from bot.roleplay.content import ContentError
from bot.roleplay.evaluate import LabelledReply
from bot.roleplay.learned import LayerReading, RoleplayLayer, reading_of, thresholds_for


def _rule(label: str, **features: bool) -> Assessment:
    names = ("clear_no", "apology", "over_justification", "hedge", "alternative_offered")
    names += ("hostile", "validation", "negotiates", "gives_in")
    feats = {name: features.get(name, False) for name in names}
    evidence = {name: (["words"] if feats[name] else []) for name in names}
    return Assessment(label, feats, evidence, "none")


def _reading(label: str, confident: bool = True) -> LayerReading:
    probs = {name: (0.9 if name == label else 0.1 / 3) for name in LABELS}
    return LayerReading(probs, label, confident)


def test_thresholds_let_through_only_the_budgeted_share_of_other_labels() -> None:
    labels = np.array([0] * 50 + [1] * 50)
    probs = np.zeros((100, 4))
    probs[:50, 0] = 0.95
    probs[50:, 0] = np.linspace(0.0, 0.99, 50)  # the other label's replies, some very sure
    probs[:, 1] = 1 - probs[:, 0]
    cut = thresholds_for(probs, labels, budget=0.04)["assertive"]
    wrongly_sure = int((probs[50:, 0] >= cut).sum())
    assert wrongly_sure <= 2  # 4% of 50
    assert cut >= learned.MIN_THRESHOLD


def test_an_unsure_layer_leaves_the_rules_verdict_alone() -> None:
    rule = _rule("passive", hedge=True)
    joined = combine(rule, _reading("assertive", confident=False))
    assert (joined.label, joined.features, joined.overruled) == ("passive", rule.features, False)


def test_a_sure_layer_calls_sarcasm_aggressive_and_names_the_sentence() -> None:
    rule = _rule("assertive", clear_no=True)
    joined = combine(rule, _reading("aggressive"), lambda label: "Nice logic, genius.")
    assert joined.label == "aggressive" and joined.overruled
    assert joined.features["hostile"]
    assert joined.evidence["hostile"] == ["Nice logic, genius."]


def test_overruling_an_aggressive_verdict_drops_the_hostile_flag() -> None:
    joined = combine(_rule("aggressive", clear_no=True, hostile=True), _reading("assertive"))
    assert joined.label == "assertive"
    assert not joined.features["hostile"] and joined.evidence["hostile"] == []


def test_a_no_the_rules_missed_is_named_when_the_layer_hears_one() -> None:
    joined = combine(_rule("passive"), _reading("assertive"), lambda label: "It won't be mine.")
    assert joined.features["clear_no"]
    assert joined.evidence["clear_no"] == ["It won't be mine."]
    assert joined.stance == "refuse"


def test_without_a_layer_the_assessor_is_the_rules() -> None:
    rules = Assessor(spacy_pipeline.load(), PatternSet(), layer=None)
    reply = "Oh cool, so I'm your taxi now."
    assert rules.assess(reply) == rules.assess_rules(reply)


def _round(tmp_path: Path, header: str) -> Path:
    path = tmp_path / "round.yml"
    path.write_text(
        header
        + "replies:\n  - text: nope\n    label: assertive\n    features:\n"
        + "".join(
            f"      {name}: false\n"
            for name in ("clear_no", "apology", "over_justification", "hedge")
            + ("alternative_offered", "hostile")
        )
    )
    return path


def test_a_blind_round_is_never_training_data_before_its_first_score(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="blind"):
        learned.load_examples([_round(tmp_path, "blind: true\n")])


def test_a_scored_round_marked_folded_joins_the_training_data(tmp_path: Path) -> None:
    [example] = learned.load_examples([_round(tmp_path, "blind: true\nfolded: true\n")])
    assert example.reply.text == "nope"


SMALL_SET = {
    "assertive": ["No, I can't.", "Not this time.", "I won't be doing it.", "No thanks.", "Nope."],
    "passive": ["ok fine", "sure, why not", "I guess so", "maybe later?", "Okay, I'll do it."],
    "aggressive": [
        "Seriously? Do it yourself.",
        "You always dump this on me.",
        "Nice try, genius.",
        "NO. STOP ASKING.",
        "Not my problem.",
    ],
    "partial": [
        "Sorry, sorry, I can't, I feel awful.",
        "I'm so sorry, I can't, work is mad and I'm tired.",
        "I really can't, I'm busy and broke and exhausted, sorry.",
        "Ugh, sorry, I hate this, but no.",
        "I feel terrible, I'm sorry, I can't.",
    ],
}


@pytest.fixture(scope="module")
def small_layer() -> RoleplayLayer:
    examples = [
        learned.Example(LabelledReply(text, None, label, {}), "small.yml")
        for label, texts in SMALL_SET.items()
        for text in texts
    ]
    layer, probs = learned.train(examples)
    assert probs.shape == (20, len(LABELS))
    return layer


def test_the_layer_file_round_trips_to_the_same_verdicts(
    small_layer: RoleplayLayer, tmp_path: Path
) -> None:
    path = tmp_path / "layer.npz"
    small_layer.report = {"examples": 20}
    small_layer.save(path)
    again = RoleplayLayer.load(path)
    assert again.thresholds == small_layer.thresholds
    assert again.report == {"examples": 20}
    vector = np.full(384, 0.05, dtype=np.float32)
    for text in ("No, I can't.", "Seriously? Do it yourself.", "", "😅"):
        first, second = small_layer.read(text, vector), again.read(text, vector)
        assert first == second
        assert abs(sum(first.probabilities.values()) - 1) < 1e-6


def test_the_key_sentence_is_one_of_the_replys_sentences(small_layer: RoleplayLayer) -> None:
    text = "I hear you. Seriously? Do it yourself. No."
    assert small_layer.key_sentence(text, "aggressive") in {
        "I hear you.",
        "Seriously?",
        "Do it yourself.",
        "No.",
    }
    assert small_layer.key_sentence("", "aggressive") is None


def test_a_missing_layer_file_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make model"):
        RoleplayLayer.load(tmp_path / "nowhere.npz")


def test_reading_of_is_confident_only_above_the_labels_threshold() -> None:
    thresholds = dict.fromkeys(LABELS, 0.8)
    assert reading_of(np.array([0.85, 0.05, 0.05, 0.05]), thresholds).confident
    assert not reading_of(np.array([0.75, 0.15, 0.05, 0.05]), thresholds).confident


def test_a_clean_no_is_never_called_buried_without_padding_to_point_to() -> None:
    clean = _rule("assertive", clear_no=True)
    assert combine(clean, _reading("partial")).label == "assertive"
    padded = _rule("assertive", clear_no=True, apology=True)
    assert combine(padded, _reading("partial")).label == "partial"


def test_a_heard_no_turns_passive_only_beside_a_maybe_or_a_yes() -> None:
    assert combine(_rule("assertive", clear_no=True), _reading("passive")).label == "assertive"
    hedged = _rule("assertive", clear_no=True, hedge=True)
    assert combine(hedged, _reading("passive")).label == "passive"


def test_a_bare_no_is_never_called_an_attack() -> None:
    bare = replace(_rule("assertive", clear_no=True), clauses=(("No", frozenset({"no"})),))
    assert combine(bare, _reading("aggressive")).label == "assertive"
    jab = (("Do you hear yourself", frozenset()), ("No", frozenset({"no"})))
    assert combine(replace(bare, clauses=jab), _reading("aggressive")).label == "aggressive"
