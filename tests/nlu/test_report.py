"""The NLU report's tables: routing per label with "did you mean", and Rasa's CV per intent."""

from __future__ import annotations

from bot.nlu.report import Parsed, format_cv_report, format_report


def _parsed(label: str, route: str, offered: tuple[str, ...] = ()) -> Parsed:
    return Parsed("text", label, route, 0.5, (route,), offered)


def test_routing_counts_right_offered_and_plain_fallbacks() -> None:
    results = [
        _parsed("values", "start_values_exercise"),
        _parsed("values", "nlu_fallback", ("start_voice_check", "start_values_exercise")),
        _parsed("voice_check", "nlu_fallback", ("start_values_exercise",)),
        _parsed("wise_mind", "nlu_fallback"),
        _parsed("out_of_scope", "out_of_scope"),
    ]
    text = format_report(results, "title")
    assert "overall: 2/5 = 0.400 routed right" in text
    assert "(nlu_fallback): 3/4 = 0.750" in text
    assert "right one among the buttons: 1; plain 'I didn't follow' (no buttons): 1/4" in text
    assert "routed right or offered as a button: 3/5 = 0.600" in text


def test_cv_report_lists_intents_worst_first_with_confusions() -> None:
    report = {
        "greet": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 20},
        "deny": {
            "precision": 0.5,
            "recall": 0.4,
            "f1-score": 0.44,
            "support": 10,
            "confused_with": {"affirm": 3, "greet": 1},
        },
        "accuracy": 0.9,
        "weighted avg": {"f1-score": 0.81},
    }
    lines = format_cv_report(report, "cv").splitlines()
    assert lines[2].startswith("deny") and "affirm 3, greet 1" in lines[2]
    assert lines[3].startswith("greet")
    assert "accuracy: 0.900" in lines and "weighted avg: F1 0.810" in lines
