"""The detector's promises: it fires on risk, stays quiet on figures of speech, never raises,
fails towards showing resources, and never hands back or logs the user's text."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from bot import safety
from bot.safety import detector as detector_module
from bot.safety.detector import CATEGORY_UNKNOWN, CHUNK_CHARS, CrisisDetector, CrisisResult

FILLER = (
    "Today I went for a walk, made soup and read two chapters of my book. My sister called "
    "about the holidays and we talked about who brings dessert. "
)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I want to kill myself", "suicidal_thoughts"),
        ("everyone would be better off without me", "suicidal_thoughts"),
        ("I don't want to wake up", "suicidal_thoughts"),
        ("what's the point of living", "suicidal_thoughts"),
        ("I've been saving up my pills", "plans_and_means"),
        ("I wrote a goodbye letter to my family", "preparatory_acts_and_attempts"),
        ("I tried to kill myself last year", "preparatory_acts_and_attempts"),
        ("I've been cutting again", "self_harm"),
        ("I took the whole bottle", "overdose_medical"),
        ("I'm going to hurt him", "harm_to_others"),
        ("he hits me", "abuse_and_danger"),
        ("I'm being forced to have sex and I'm only 12", "abuse_and_danger"),
        ("my sister is cutting herself", "someone_else_at_risk"),
        ("me quiero matar", "suicidal_thoughts"),
        ("je vais me suicider", "suicidal_thoughts"),
        ("ich bringe mich um", "suicidal_thoughts"),
    ],
)
def test_fires_with_the_right_category(detector: CrisisDetector, text: str, category: str) -> None:
    result = detector.detect(text)
    assert result.is_crisis
    assert category in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "I don't want to be alive",
        "I don't want to live anymore",
        "I can't go on",
        "I'm not suicidal, I just don't want to exist",
        "I don't want to kill myself but I don't want to live either",
        "I'd die for tacos. Honestly though, I want to die.",
        # "die for" is a figure of speech only after would/could: not before a length of time.
        "i've wanted to die for weeks now",
        "I have wanted to die for months and nobody knows",
    ],
)
def test_negation_and_nearby_idioms_do_not_silence_risk(
    detector: CrisisDetector, text: str
) -> None:
    assert detector.detect(text).is_crisis


@pytest.mark.parametrize(
    "text",
    [
        "I'd die for tacos",
        "dead tired",
        "killing it at work",
        "my phone is dead",
        "I'm dying laughing",
        "we had to cut ties",
        "shoot me a text",
        "this commute is killing me",
        "kill the lights",
        "my feet are killing me",
        "drop dead gorgeous",
        "I could murder a pizza",
        "that cake is to die for",
        "the deadline is Friday",
        "killer workout",
        "my dad died last year and I miss him",
        "I'm so angry at him I could scream",
        "I feel like I'm drowning in work",
        "I always say yes to my mom",
        "I'd rate it 7",
        "honesty",
        "stop",
    ],
)
def test_figures_of_speech_and_the_bots_topics_stay_quiet(
    detector: CrisisDetector, text: str
) -> None:
    result = detector.detect(text)
    assert result == CrisisResult(is_crisis=False)


def test_result_holds_sorted_unique_categories_and_pattern_ids_only(
    detector: CrisisDetector,
) -> None:
    text = "I want to kill myself. He hits me. I want to kill myself."
    result = detector.detect(text)
    assert result.categories == tuple(sorted(set(result.categories)))
    assert result.matched == tuple(sorted(set(result.matched)))
    assert {"abuse_and_danger", "suicidal_thoughts"} <= set(result.categories)
    known_ids = {e.id for e in detector.entries}
    assert set(result.matched) <= known_ids
    assert all(word not in " ".join(result.matched) for word in ("hits", "kill myself"))


def test_a_crisis_sentence_buried_in_a_long_text_is_found(detector: CrisisDetector) -> None:
    before = FILLER * 30
    after = FILLER * 30
    text = f"{before} Honestly I took too many pills an hour ago. {after}"
    assert len(text) > 5000
    result = detector.detect(text)
    assert result.is_crisis and "overdose_medical" in result.categories
    assert not detector.detect(before + after).is_crisis


def test_long_texts_are_scanned_in_chunks_across_boundaries(detector: CrisisDetector) -> None:
    # Put the crisis phrase across every chunk boundary the chunker could pick.
    filler = FILLER * (CHUNK_CHARS // len(FILLER) + 2)
    for offset in (-40, -20, -5, 0, 5):
        cut = CHUNK_CHARS + offset
        text = filler[:cut] + " I want to kill myself " + filler[cut:]
        assert detector.detect(text).is_crisis, offset


@pytest.mark.parametrize(
    "text",
    [None, "", "   ", "\x00\x00", "😀" * 50, "\u200f\u200e", b"I want to die", 12345, ["x"]],
)
def test_never_raises_on_odd_input(detector: CrisisDetector, text: object) -> None:
    result = detector.detect(text)
    assert isinstance(result, CrisisResult)


def test_bytes_are_decoded(detector: CrisisDetector) -> None:
    assert detector.detect("I want to die ✓".encode()).is_crisis
    assert detector.detect(b"\xff\xfe I want to die").is_crisis


def test_empty_and_none_are_not_a_crisis(detector: CrisisDetector) -> None:
    assert detector.detect(None) == CrisisResult(is_crisis=False)
    assert detector.detect("") == CrisisResult(is_crisis=False)


def test_a_one_megabyte_message_is_handled(detector: CrisisDetector) -> None:
    text = ("nothing to see here " * 60_000)[:1_000_000] + " I want to kill myself"
    assert len(text) > 1_000_000
    result = detector.detect(text)
    assert result.is_crisis and CATEGORY_UNKNOWN not in result.categories


def test_nul_bytes_and_direction_marks_do_not_hide_a_crisis(detector: CrisisDetector) -> None:
    assert detector.detect("I\x00 want to\u200f die\u200b").is_crisis


def test_internal_error_fails_towards_crisis_and_logs_no_text(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = CrisisDetector()

    def explode(text: str) -> None:
        raise UnicodeEncodeError("utf-8", text, 0, 1, "secret words inside")

    monkeypatch.setattr(broken, "analyse", explode)
    secret = "my secret sentence about lunch"
    with caplog.at_level(logging.DEBUG):
        result = broken.detect(secret)
    assert result == CrisisResult(is_crisis=True, categories=(CATEGORY_UNKNOWN,), matched=())
    assert "UnicodeEncodeError" in caplog.text
    assert secret not in caplog.text and "lunch" not in caplog.text


def test_broken_pattern_data_fails_towards_crisis(tmp_path: Path) -> None:
    broken = CrisisDetector(pattern_dir=tmp_path)  # no pattern files at all
    result = broken.detect("what's for lunch?")
    assert result.is_crisis and result.categories == (CATEGORY_UNKNOWN,)


def test_module_detect_uses_one_shared_detector() -> None:
    assert safety.detect("I want to die").is_crisis
    assert detector_module.default_detector() is detector_module.default_detector()


def test_concurrent_first_use_loads_once_and_answers_everyone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fresh = CrisisDetector()
    builds = []
    real_build = fresh._build

    def counting_build():
        builds.append(1)
        return real_build()

    monkeypatch.setattr(fresh, "_build", counting_build)
    results: list[CrisisResult] = []
    texts = ["I want to die", "I love pizza"] * 4
    threads = [threading.Thread(target=lambda t=t: results.append(fresh.detect(t))) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert sorted(r.is_crisis for r in results) == [False] * 4 + [True] * 4


def test_detecting_does_not_log_text_at_info_or_above(
    detector: CrisisDetector, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        detector.detect("I want to kill myself, my name is Alex")
    assert "Alex" not in caplog.text


def test_anchored_matching_finds_exactly_what_one_big_matcher_finds(
    detector: CrisisDetector,
) -> None:
    from bot.safety.evaluate import DEFAULT_EVAL_PATH, load_cases

    full = CrisisDetector(prefilter=False)
    texts = [case.text for case in load_cases(DEFAULT_EVAL_PATH)]
    texts += [example for entry in detector.entries for example in entry.examples]
    texts += [example for entry in detector.exclusions for example in entry.examples]
    texts.append(FILLER * 20 + " I took too many pills. " + FILLER * 20)
    differences = []
    for text in texts:
        fast, slow = detector.analyse(text), full.analyse(text)
        if (fast.matched_variants, fast.suppressed) != (slow.matched_variants, slow.suppressed):
            differences.append(text)
    assert not differences
