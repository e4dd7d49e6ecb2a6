"""The benchmark refuses to report figures from a server that runs without its model, and names
button payloads its scripts send that the domain does not know."""

from __future__ import annotations

from pathlib import Path

from bench.conversations import Conversation, ScriptSet
from bench.run import check_payloads, degraded_answers, model_load_failure

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


def test_payloads_the_domain_does_not_know_are_named(tmp_path: Path) -> None:
    # Read by the channels' own reader of the domain (bot.channels.failsafe).
    domain = tmp_path / "domain"
    domain.mkdir()
    (domain / "a.yml").write_text(
        "intents:\n  - greet\n  - learn:\n      is_retrieval_intent: true\n"
    )
    (domain / "b.yml").write_text("responses: {}\n")
    turns = ("/greet", '/learn{"topic": "x"}', "/start_roleplay", "hello")
    scripts = ScriptSet(tmp_path / "s.yml", (Conversation("c", turns),))
    (note,) = check_payloads(scripts, domain)
    assert note.endswith("(the channel treats them as typed text): start_roleplay")
    (note,) = check_payloads(scripts, domain / "b.yml")
    assert note.endswith("typed text): greet, learn, start_roleplay")
    assert (
        check_payloads(ScriptSet(tmp_path / "s.yml", (Conversation("c", turns[:2]),)), domain) == []
    )
