"""The benchmark refuses to report figures from a server that runs without its model."""

from __future__ import annotations

from pathlib import Path

from bench.run import degraded_answers, model_load_failure

LOG_WITHOUT_MODEL = """\
2026-11-28 02:56:11 ERROR    rasa.core.agent  - Could not load model due to Error initializing graph component.
Traceback (most recent call last):
  File "/x/bot/safety/yaml_data.py", line 40, in load
    raise SafetyDataError(path, key, str(exc)) from None
bot.safety.yaml_data.SafetyDataError: data/safety/patterns/x.yml: patterns[8]: not normalised
rasa.engine.exceptions.GraphComponentException: Error initializing graph component
2026-11-28 02:56:12 ERROR    bot.safety.detector  - crisis detection failed (SafetyDataError)
2026-11-28 02:56:13 ERROR    bot.safety.detector  - crisis detection failed (SafetyDataError)
"""


def test_a_model_that_did_not_load_is_found_with_its_cause(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text(LOG_WITHOUT_MODEL)
    cause = model_load_failure(log)
    assert cause is not None
    assert cause.startswith("bot.safety.yaml_data.SafetyDataError: data/safety/patterns/x.yml")


def test_a_healthy_log_has_no_load_failure(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text("2026-11-28 INFO root - Rasa server is up and running.\n")
    assert model_load_failure(log) is None
    assert degraded_answers(log) == {}


def test_fall_backs_are_counted(tmp_path: Path) -> None:
    log = tmp_path / "rasa.log"
    log.write_text(LOG_WITHOUT_MODEL)
    assert degraded_answers(log) == {"the crisis detector failed (answered as a crisis)": 2}
