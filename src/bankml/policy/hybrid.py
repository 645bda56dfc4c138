"""Hybrid retrieval: BM25 and dense search fused by reciprocal rank, exact references first.

Each search runs with the caller's reading groups *inside* it (tantivy's term-set filter,
the dense index's row masks), so the two ranked lists that meet in the fusion contain only
permitted chunks: fusion can neither surface a restricted chunk nor be shaped by one.

Reciprocal rank fusion (Cormack et al., 2009): ``score = sum 1 / (60 + rank)`` over the
lists a chunk appears in. It needs no score calibration between BM25 and cosine similarity,
which live on unrelated scales. Exact references the question names ("POL-AML-004 §3.2",
"§ 1002.9(b)") and defined terms asked for are looked up first and lead the list.

``mode`` picks ``hybrid`` (the default), ``bm25`` or ``dense`` alone: the evaluation compares
the three on the same index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bankml.core.errors import InputError
from bankml.policy.dense import DenseIndex
from bankml.policy.index import ChunkIndex, IndexedChunk, SearchHit
from bankml.policy.structure import exact_matches, question_refs

__all__ = ["RETRIEVAL_MODES", "RRF_K", "HybridIndex", "reciprocal_rank_fusion"]

log = logging.getLogger(__name__)

RETRIEVAL_MODES = ("hybrid", "bm25", "dense")
RRF_K = 60
_DEPTH = 10  # how deep each list is read before fusion (on the suite: 10 > 15 > 20 > 50)


def reciprocal_rank_fusion(
    lists: Sequence[Sequence[SearchHit]],
    k: int,
    rrf_k: int = RRF_K,
    weights: Sequence[float] | None = None,
) -> list[SearchHit]:
    """Fuse ranked lists: ``sum w/(rrf_k + rank)``; ties broken by chunk id (deterministic)."""
    scores: dict[str, float] = {}
    chunks: dict[str, IndexedChunk] = {}
    for n, hits in enumerate(lists):
        w = 1.0 if weights is None else weights[n]
        for h in hits:
            scores[h.chunk.chunk_id] = scores.get(h.chunk.chunk_id, 0.0) + w / (rrf_k + h.rank)
            chunks.setdefault(h.chunk.chunk_id, h.chunk)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [SearchHit(chunks[c], s, i) for i, (c, s) in enumerate(ranked, start=1)]


class HybridIndex:
    """A ``ChunkIndex`` over a BM25 index and a dense index kept in step."""

    def __init__(
        self,
        bm25: ChunkIndex,
        dense: DenseIndex,
        *,
        mode: str = "hybrid",
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> None:
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"retrieval mode {mode!r}; choose one of {', '.join(RETRIEVAL_MODES)}")
        self.bm25 = bm25
        self.dense = dense
        self.mode = mode
        self.weights = weights

    @property
    def layout(self) -> str:
        """What the index holds, for the assistant's rebuild fingerprint."""
        return f"hybrid:{self.dense.embedder.name}"

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Replace one document in both indexes."""
        self.replace_documents({doc_id: chunks})

    def replace_documents(self, docs: dict[str, Sequence[IndexedChunk]]) -> None:
        """Replace documents in both indexes (vectors first: the slow, fallible step)."""
        self.dense.replace_documents(docs)
        self.bm25.replace_documents(docs)

    def search(
        self, query: str, reading_groups: frozenset[str], k: int, mode: str | None = None
    ) -> list[SearchHit]:
        """Top ``k`` permitted chunks for ``query`` by ``mode`` (default: this index's)."""
        mode = mode or self.mode
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"retrieval mode {mode!r}; choose one of {', '.join(RETRIEVAL_MODES)}")
        if not reading_groups or k <= 0:
            return []
        if mode == "bm25":
            return self.bm25.search(query, reading_groups, k)
        if mode == "dense":
            return self.dense.search(query, reading_groups, k)
        depth = max(k, _DEPTH)
        lists = [
            self.bm25.search(query, reading_groups, depth),
            self.dense.search(query, reading_groups, depth),
        ]
        fused = reciprocal_rank_fusion(lists, depth, weights=self.weights)
        refs = question_refs(query)
        if refs.empty and not refs.wants_definition:
            return fused[:k]
        exact = exact_matches(refs, self.dense.chunks(), reading_groups, k)
        if not exact:
            return fused[:k]
        lead = {c.chunk_id for c in exact}
        top = 1.0 / RRF_K + (fused[0].score if fused else 0.0)
        merged = [SearchHit(c, top, 0) for c in exact]
        merged += [h for h in fused if h.chunk.chunk_id not in lead]
        return [SearchHit(h.chunk, h.score, i) for i, h in enumerate(merged[:k], start=1)]

    def count(self) -> int:
        """Chunks in the BM25 index (the dense index holds the same ones)."""
        return self.bm25.count()

    def clear(self) -> None:
        """Empty both (the dense index keeps its vectors as a cache for the rebuild)."""
        self.bm25.clear()
        self.dense.clear()
