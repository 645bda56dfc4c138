"""Building the policy assistant's parts from settings (called by ``bankml.app`` only).

``build_policy_index`` picks the retrieval: ``hybrid`` (BM25 + MiniLM embeddings, fused),
``bm25`` alone, or ``auto`` (hybrid when the embedding model is installed, else BM25 with a
warning, so a machine installed without the model still answers). ``generator_from`` builds
the OpenAI-compatible answer generator when settings name an endpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bankml.core.errors import ConfigError
from bankml.core.settings import Settings
from bankml.policy.generator import OpenAICompatibleGenerator
from bankml.policy.index import ChunkIndex, TantivyIndex

__all__ = ["build_policy_index", "generator_from"]

log = logging.getLogger(__name__)


def build_policy_index(folder: Path, retrieval: str) -> ChunkIndex:
    """The policy index in ``folder`` for the configured retrieval mode."""
    from bankml.policy.embeddings import MISSING_MODEL_MESSAGE, default_embedder, embedder_available

    if retrieval == "bm25" or (retrieval == "auto" and not embedder_available()):
        if retrieval == "auto":
            log.warning("embedding model not installed: policy search uses BM25 alone")
        return TantivyIndex(folder)
    if not embedder_available():
        raise ConfigError(MISSING_MODEL_MESSAGE)
    from bankml.policy.dense import DenseIndex
    from bankml.policy.hybrid import HybridIndex

    # Side by side, so clearing the BM25 index (a rebuild) keeps the vectors as a cache.
    # Files of a BM25-only index at the top of the folder are derived data: dropped.
    for stale in folder.glob("*") if folder.is_dir() else ():
        if stale.is_file():
            stale.unlink(missing_ok=True)
    return HybridIndex(
        TantivyIndex(folder / "bm25"), DenseIndex(folder / "dense", default_embedder())
    )


def generator_from(settings: Settings) -> OpenAICompatibleGenerator | None:
    """The configured answer generator, or None for the built-in extractive answerer."""
    if not settings.policy_generator_url:
        return None
    key = settings.policy_generator_api_key
    return OpenAICompatibleGenerator(
        settings.policy_generator_url,
        settings.policy_generator_model,
        api_key=key.get_secret_value() if key else None,
        timeout_s=settings.policy_generator_timeout_s,
    )
