"""The sentence classifier trains, persists plain arrays in the model storage, loads and ranks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoder
from bot.nlu.sentence_classifier import (
    WEIGHTS_FILE,
    SentenceClassifierError,
    SentenceIntentClassifier,
)

EXAMPLES = {
    "start_values_exercise": [
        "help me find my values",
        "I don't know what matters to me anymore",
        "values exercise",
        "what do I actually care about",
    ],
    "start_wise_mind": [
        "help me calm down",
        "I'm so angry I could scream",
        "I need a pause before I react",
        "wise mind please",
    ],
    "greet": ["hi", "hello there", "good morning", "hey"],
}


def _training_data() -> TrainingData:
    return TrainingData(
        [Message(data={TEXT: t, INTENT: i}) for i, texts in EXAMPLES.items() for t in texts]
    )


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("sentence_classifier")
    component = SentenceIntentClassifier.create(
        SentenceIntentClassifier.get_default_config(), storage, resource, _context()
    )
    component.train(_training_data())
    return storage, resource


def _load(storage: LocalModelStorage, resource: Resource, **config) -> SentenceIntentClassifier:
    settings = {**SentenceIntentClassifier.get_default_config(), **config}
    return SentenceIntentClassifier.load(settings, storage, resource, _context())


def test_it_sets_intent_and_ranking_like_diet(trained) -> None:
    classifier = _load(*trained)
    messages = [Message(data={TEXT: t}) for t in ("can you help me figure out my values", "hiya")]
    first, second = classifier.process(messages)
    assert first.get(INTENT)["name"] == "start_values_exercise"
    assert second.get(INTENT)["name"] == "greet"
    ranking = first.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "start_values_exercise"
    assert len(ranking) == 3
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-5
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
    assert first.get(INTENT) == ranking[0]
    assert all(isinstance(r["confidence"], float) for r in ranking)


def test_ranking_length_is_respected(trained) -> None:
    classifier = _load(*trained, ranking_length=2)
    [message] = classifier.process([Message(data={TEXT: "hello"})])
    assert len(message.get(INTENT_RANKING_KEY)) == 2


def test_the_stored_weights_are_plain_arrays_with_the_encoder_hash(trained) -> None:
    storage, resource = trained
    with storage.read_from(resource) as directory:
        files = sorted(p.name for p in Path(directory).iterdir())
        assert files == [WEIGHTS_FILE]
        with np.load(Path(directory) / WEIGHTS_FILE, allow_pickle=False) as data:
            assert str(data["encoder_sha256"]) == encoder.MODEL_SHA256
            assert data["dense_w"].shape == (encoder.DIMENSION, 3)
            assert len(data["sparse_rows"]) == len(data["sparse_w"])


def test_uses_the_shared_encoder_cache(trained) -> None:
    classifier = _load(*trained)
    text = "a sentence the crisis detector has just read"
    encoder.embed(text)
    calls = encoder.get_encoder().calls
    classifier.process([Message(data={TEXT: text})])
    assert encoder.get_encoder().calls == calls


def test_empty_text_still_gets_an_intent(trained) -> None:
    [message] = _load(*trained).process([Message(data={TEXT: ""})])
    assert message.get(INTENT)["name"] in EXAMPLES


def test_a_model_trained_on_another_encoder_is_refused(tmp_path: Path, trained) -> None:
    storage, resource = trained
    with storage.read_from(resource) as directory:
        with np.load(Path(directory) / WEIGHTS_FILE, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    arrays["encoder_sha256"] = np.array("0" * 64)
    other = LocalModelStorage(tmp_path)
    with other.write_to(resource) as directory:
        np.savez(Path(directory) / WEIGHTS_FILE, **arrays)
    with pytest.raises(SentenceClassifierError, match="another sentence encoder"):
        _load(other, resource)


def test_missing_weights_say_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(SentenceClassifierError, match="make model"):
        _load(LocalModelStorage(tmp_path), Resource("nothing"))


@pytest.mark.parametrize(
    "config", [{"c": 0}, {"c": "8"}, {"c": True}, {"ranking_length": 0}, {"ranking_length": 2.5}]
)
def test_bad_settings_are_refused(config: dict) -> None:
    settings = {**SentenceIntentClassifier.get_default_config(), **config}
    with pytest.raises(SentenceClassifierError, match="config.yml"):
        SentenceIntentClassifier(settings, None, Resource("x"))  # type: ignore[arg-type]


def test_one_intent_is_not_enough(tmp_path: Path) -> None:
    component = SentenceIntentClassifier.create(
        SentenceIntentClassifier.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("x"),
        _context(),
    )
    data = TrainingData([Message(data={TEXT: "hi", INTENT: "greet"})])
    with pytest.raises(SentenceClassifierError, match="two intents"):
        component.train(data)
