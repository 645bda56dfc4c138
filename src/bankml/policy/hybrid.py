"""Hybrid retrieval: BM25 and dense search fused by reciprocal rank, exact references first.

Each search runs with the caller's reading groups *inside* it (tantivy's term-set filter,
the dense index's row masks), so the two ranked lists that meet in the fusion contain only
permitted chunks: fusion can neither surface a restricted chunk nor be shaped by one.

Reciprocal rank fusion (Cormack et al., 2009): ``score = sum 1 / (60 + rank)`` over the
lists a chunk appears in. It needs no score calibration between BM25 and cosine similarity,
which live on unrelated scales. Exact references the question names ("POL-AML-004 §3.2",
"§ 1002.9(b)") and defined terms asked for are looked up first and lead the list. A question
naming a readable document by id or whole title gets that document's chunks next, ranked by
both searches on the question's other words inside that document (the title's words are in
every one of its chunks, so they cannot say which part is meant).

A question is embedded once, and only once: when it names a document only its other words go
through the model, and that vector serves both the global dense search (the named document
is placed first anyway) and the search inside the document. Embedding the whole question as
well doubled a titled question's cost (p99 75 ms at 100k chunks) and changed none of the
suite's figures when dropped (literal, paraphrase, citation, abstention and security all
equal; 887 of 921 rankings identical, the rest below the answer's chunks).

``mode`` picks ``hybrid`` (the default), ``bm25`` or ``dense`` alone: the evaluation compares
the three on the same index.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from bankml.core.errors import InputError
from bankml.policy.dense import DenseIndex
from bankml.policy.index import ChunkIndex, IndexedChunk, SearchHit, query_terms
from bankml.policy.structure import (
    exact_matches,
    named_documents,
    question_refs,
    residual_question,
)

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
        self,
        query: str,
        reading_groups: frozenset[str],
        k: int,
        doc_ids: frozenset[str] | None = None,
        mode: str | None = None,
    ) -> list[SearchHit]:
        """Top ``k`` permitted chunks for ``query`` by ``mode`` (default: this index's).

        ``doc_ids`` restricts both searches to those documents.
        """
        mode = mode or self.mode
        if mode not in RETRIEVAL_MODES:
            raise InputError(f"retrieval mode {mode!r}; choose one of {', '.join(RETRIEVAL_MODES)}")
        if not reading_groups or k <= 0:
            return []
        if mode == "bm25":
            return self.bm25.search(query, reading_groups, k, doc_ids)
        if mode == "dense":
            return self._dense(query, reading_groups, k, doc_ids, None)
        depth = max(k, _DEPTH)
        named: dict[str, str] = {}
        rest = ""
        if doc_ids is None:
            named, rest = self._named_documents(query, reading_groups)
        vector = self._embed([rest or query])[0]
        fused = self._fuse(query, reading_groups, depth, doc_ids, vector)
        if rest:
            fused = self._named_documents_first(
                rest, frozenset(named), reading_groups, depth, fused, vector
            )
        refs = question_refs(query)
        if refs.empty and not refs.wants_definition:
            return fused[:k]
        index = self.dense.structures()
        chunks = self.dense.chunks_by_id(index.candidates(refs))
        if doc_ids is not None:
            chunks = [c for c in chunks if c.doc_id in doc_ids]
        exact = exact_matches(refs, chunks, reading_groups, k, index.structure)
        if not exact:
            return fused[:k]
        return _lead(exact, fused, k)

    def _embed(self, texts: list[str]) -> list[np.ndarray | None]:
        """Vectors of the texts that have words, in one forward pass (``None`` for blank)."""
        wanted = [t for t in texts if t.strip()]
        vectors = iter(self.dense.embed(wanted)) if wanted else iter(())
        return [next(vectors) if t.strip() else None for t in texts]

    def _fuse(
        self,
        query: str,
        reading_groups: frozenset[str],
        depth: int,
        doc_ids: frozenset[str] | None,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Both searches (BM25, dense with ``vector`` if given), fused by reciprocal rank."""
        lists = [
            self.bm25.search(query, reading_groups, depth, doc_ids),
            self._dense(query, reading_groups, depth, doc_ids, vector),
        ]
        return reciprocal_rank_fusion(lists, depth, weights=self.weights)

    def _dense(
        self,
        query: str,
        reading_groups: frozenset[str],
        k: int,
        doc_ids: frozenset[str] | None,
        vector: np.ndarray | None,
    ) -> list[SearchHit]:
        if doc_ids is None:
            return self.dense.search(query, reading_groups, k, vector=vector)
        # Within named documents: score their chunks only, with the same relevance floor.
        return self.dense.document_search(query, doc_ids, reading_groups, k, vector=vector)

    def _named_documents(
        self, query: str, reading_groups: frozenset[str]
    ) -> tuple[dict[str, str], str]:
        """Readable documents the question names, and what it asks besides the names.

        The rest is empty when nothing is named or the question asks nothing more.
        """
        catalogue = self.dense.catalogue()
        named = named_documents(query, catalogue.titles, catalogue.groups, reading_groups)
        if not named:
            return {}, ""
        rest = residual_question(query, named.values())
        return named, rest if query_terms(rest) else ""

    def _named_documents_first(
        self,
        rest: str,
        named: frozenset[str],
        reading_groups: frozenset[str],
        depth: int,
        fused: list[SearchHit],
        vector: np.ndarray | None,
    ) -> list[SearchHit]:
        """A question naming a readable document (by id or whole title) gets that document's
        best chunks first, ranked by the question's *other* words (``rest``).

        Why: a title's words are in every chunk of its document (title field, embedding
        text), so in both searches they lift the whole document equally and drown the few
        words that say which part of it is asked about; the chunk the rest of the question
        points at could fall out of the top k behind the document's preamble and purpose.
        """
        inside = self._fuse(rest, reading_groups, depth, named, vector)
        if not inside:
            return fused
        return _lead([h.chunk for h in inside], fused, depth)

    def count(self) -> int:
        """Chunks in the BM25 index (the dense index holds the same ones)."""
        return self.bm25.count()

    def clear(self) -> None:
        """Empty both (the dense index keeps its vectors as a cache for the rebuild)."""
        self.bm25.clear()
        self.dense.clear()


def _lead(first: Sequence[IndexedChunk], fused: Sequence[SearchHit], k: int) -> list[SearchHit]:
    """``first`` in its order, then the rest of ``fused``; scores above the fused list's."""
    lead = {c.chunk_id for c in first}
    top = 1.0 / RRF_K + (fused[0].score if fused else 0.0)
    merged = [SearchHit(c, top, 0) for c in first]
    merged += [h for h in fused if h.chunk.chunk_id not in lead]
    return [SearchHit(h.chunk, h.score, i) for i, h in enumerate(merged[:k], start=1)]
