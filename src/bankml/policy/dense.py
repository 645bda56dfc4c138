"""Dense (embedding) search over chunks, with the access filter inside the search.

``DenseIndex`` keeps one unit vector per chunk in one file ``dense.npz`` inside the policy
index folder. A search multiplies the query vector with the rows the caller's groups may read
and nothing else: rows of other groups are never scored, so a restricted chunk can neither be
returned nor push a permitted one out of the top k (the same guarantee as the BM25 index's
filter in the query).

Speed: a product of 100k x 384 floats is memory-bound (~30 ms on a busy 2-core machine), so
two things keep a search from reading rows it does not need. First, rows are stored grouped
by their *audience* (the exact set of reading groups of their document), so the rows a caller
may read are a few contiguous blocks: a search multiplies the query with those blocks and
nothing else, and no restricted row is ever scored (the filter is the choice of blocks,
before any top-k). Second, from 20k rows the search has two steps: it scores the permitted
rows on their projection onto the 128 principal directions of the stored vectors (a third of
the bytes), takes the 512 best and scores them with the exact float32 cosine, from which the
top k is taken. Returned scores are therefore exact cosines; on the bench's 100k chunks the
top 10 equals the exact search's for 199 of 200 queries (``bench/policy.py`` prints the
agreement). The projection is derived from the stored vectors when the index is loaded;
nothing new is stored on disk. Ties between equal cosines break by the order in which chunks
were added, whatever the storage order. The blocks of each group set are memoised until the
index changes, and the products run on one BLAS thread (threads only contend on a shared
machine). A caller that already holds the query's vector passes it (``vector=``), so a
question is embedded once however many searches it takes.

Vectors are cached by a fingerprint of what was embedded (the model name, the document title,
the section path and the chunk text): re-ingesting a corpus embeds only the chunks whose text
changed, and an index rebuild (``clear`` then ``replace_documents``) reuses every vector whose
chunk is unchanged. The file is written to a temporary name and renamed, so a reader (an API
worker) sees the old or the new index, never half of one; readers reload it when it changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bankml.policy.embeddings import Embedder, blas_threads
from bankml.policy.index import IndexedChunk, SearchHit
from bankml.policy.structure import ChunkStructure, StructureIndex, chunk_structure, norm_words

__all__ = ["Catalogue", "DenseIndex", "embedding_text"]

log = logging.getLogger(__name__)

_FILE = "dense.npz"


def embedding_text(chunk: IndexedChunk) -> str:
    """What is embedded for a chunk: title and heading path give a short section its topic."""
    return f"{chunk.title}. {chunk.section}.\n{chunk.text}"


@dataclass(frozen=True)
class Catalogue:
    """What the index knows per document, for questions that name one."""

    titles: dict[str, frozenset[str]]  # normalized title -> document ids
    groups: dict[str, frozenset[str]]  # document id -> reading groups
    chunk_ids: dict[str, tuple[str, ...]]  # document id -> its chunks


@dataclass(frozen=True)
class _Row:
    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    groups: tuple[str, ...]
    flags: tuple[str, ...]
    fingerprint: str

    def chunk(self) -> IndexedChunk:
        return IndexedChunk(
            self.chunk_id,
            self.doc_id,
            self.title,
            self.section,
            self.text,
            frozenset(self.groups),
            self.flags,
        )


class DenseIndex:
    """Chunk vectors with group masks; on disk when ``path`` is given, in memory otherwise."""

    def __init__(
        self,
        path: Path | None,
        embedder: Embedder,
        *,
        min_similarity: float = 0.2,
        reduce_above: int = 20_000,
        reduced_dim: int = 128,
        candidates: int = 512,
    ) -> None:
        self.path = path
        self.embedder = embedder
        # Large indexes search in two steps: a first pass over the vectors projected on their
        # ``reduced_dim`` principal directions (a quarter of the bytes to read), then the exact
        # float32 cosine of the best ``candidates`` rows, from which the top k is taken. Below
        # ``reduce_above`` rows the exact product is cheap enough and is used alone.
        self.reduce_above = reduce_above
        self.reduced_dim = reduced_dim
        self.candidates = candidates
        # Below this cosine a chunk is not "about" the query at all (unrelated policy text
        # scores ~0.0-0.1 with MiniLM): a dense search returns nothing rather than noise.
        self.min_similarity = min_similarity
        self._rows: dict[str, _Row] = {}
        self._cache: dict[str, np.ndarray] = {}  # fingerprint -> vector
        self._stamp: int | None = None
        self._loaded = False
        self._lock = threading.RLock()
        # Search state, rebuilt after any change. Rows are stored grouped by audience (see
        # the module docstring); ``_order`` is each row's place in insertion order, for ties.
        self._ids: list[str] = []
        self._order = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, embedder.dim), dtype=np.float32)
        self._reduced: np.ndarray | None = None  # rows projected on the principal directions
        self._basis: np.ndarray | None = None  # dim x reduced_dim
        self._blocks: list[tuple[frozenset[str], int, int]] = []  # audience, first row, end
        self._permitted_cache: dict[frozenset[str], _Permitted] = {}
        self._mask_cache: dict[frozenset[str], np.ndarray] = {}
        self._doc_rows: dict[str, np.ndarray] | None = None
        self._catalogue: Catalogue | None = None
        self._structure_index: StructureIndex | None = None
        # Chunk structures by fingerprint (title, path, text): kept across index changes, so
        # after re-ingesting one document only its chunks are parsed again.
        self._structures: dict[str, ChunkStructure] = {}
        self.embedded = 0  # how many chunks this object embedded (re-ingest reuses the rest)

    # -- persistence ---------------------------------------------------------------------------
    def _file(self) -> Path | None:
        return None if self.path is None else self.path / _FILE

    def _load(self) -> None:
        """Read the file if it changed since we last read it (another process wrote it)."""
        file = self._file()
        if file is None:
            self._loaded = True
            return
        try:
            stamp = file.stat().st_mtime_ns
        except OSError:
            stamp = None
        if self._loaded and stamp == self._stamp:
            return
        self._rows, self._cache = {}, {}
        if stamp is not None:
            try:
                with np.load(file, allow_pickle=False) as data:
                    meta = json.loads(str(data["meta"]))
                    vectors = np.asarray(data["vectors"], dtype=np.float32)
                    prints = [str(p) for p in data["fingerprints"]]
                if meta.get("model") != self.embedder.name or vectors.shape[1:] != (
                    self.embedder.dim,
                ):
                    raise ValueError("another embedding model")
                self._cache = {p: vectors[i] for i, p in enumerate(prints)}
                for r in meta["rows"]:
                    row = _Row(**{**r, "groups": tuple(r["groups"]), "flags": tuple(r["flags"])})
                    self._rows[row.chunk_id] = row
            except (OSError, ValueError, KeyError, TypeError) as exc:
                # Derived data: a damaged or foreign file is rebuilt from the document store.
                log.warning("dense index %s unreadable (%s); it will be rebuilt", file, exc)
                self._rows, self._cache = {}, {}
                stamp = None
        self._stamp = stamp
        self._loaded = True
        self._rebuild()

    def _save(self) -> None:
        file = self._file()
        if file is None:
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        prints = sorted(self._cache)
        vectors = (
            np.stack([self._cache[p] for p in prints])
            if prints
            else np.zeros((0, self.embedder.dim), dtype=np.float32)
        )
        meta = {
            "model": self.embedder.name,
            "rows": [asdict(r) for r in self._rows.values()],
        }
        tmp = file.with_name(f".{_FILE}.{os.getpid()}.{threading.get_ident()}.tmp")
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                meta=np.array(json.dumps(meta)),
                vectors=vectors,
                fingerprints=np.array(prints, dtype=str),
            )
        os.replace(tmp, file)
        self._stamp = file.stat().st_mtime_ns

    def _rebuild(self) -> None:
        rows = list(self._rows.values())
        # Group rows by audience (a stable sort keeps insertion order within an audience), so
        # the rows any group set may read are a few contiguous blocks of the matrix.
        code: dict[tuple[str, ...], int] = {}
        codes = np.fromiter(
            (code.setdefault(r.groups, len(code)) for r in rows), dtype=np.int64, count=len(rows)
        )
        audiences = sorted(code)
        rank = np.zeros(len(audiences), dtype=np.int64)
        for i, a in enumerate(audiences):
            rank[code[a]] = i
        ranked = rank[codes]
        self._order = np.argsort(ranked, kind="stable")
        ranked = ranked[self._order]
        self._ids = [rows[int(i)].chunk_id for i in self._order]
        self._blocks = []
        for i, a in enumerate(audiences):
            start, stop = np.searchsorted(ranked, [i, i + 1])
            if a and stop > start:  # a chunk without groups is readable by nobody
                self._blocks.append((frozenset(a), int(start), int(stop)))
        if rows:
            self._matrix = np.stack([self._cache[rows[int(i)].fingerprint] for i in self._order])
        else:
            self._matrix = np.zeros((0, self.embedder.dim), dtype=np.float32)
        self._permitted_cache = {}
        self._mask_cache = {}
        self._doc_rows = None
        self._catalogue = None
        self._structure_index = None
        self._reduced, self._basis = None, None
        if len(self._ids) >= self.reduce_above and self.reduced_dim < self.embedder.dim:
            # Sampled in insertion order: the basis does not depend on the storage order.
            inserted = np.empty_like(self._order)
            inserted[self._order] = np.arange(len(self._order))
            self._basis = _principal_directions(self._matrix, self.reduced_dim, inserted)
            with blas_threads(1):
                self._reduced = np.ascontiguousarray(self._matrix @ self._basis)

    # -- the ChunkIndex port --------------------------------------------------------------------
    def _fingerprint(self, chunk: IndexedChunk) -> str:
        text = f"{self.embedder.name}\x00{embedding_text(chunk)}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Drop the document's old chunks and add these."""
        self.replace_documents({doc_id: chunks})

    def replace_documents(self, docs: dict[str, Sequence[IndexedChunk]]) -> None:
        """Replace several documents; embeds only chunks whose fingerprint is new."""
        with self._lock:
            self._load()
            for cid in [c for c, r in self._rows.items() if r.doc_id in docs]:
                del self._rows[cid]
            new: list[tuple[str, IndexedChunk]] = []
            for chunks in docs.values():
                for c in chunks:
                    fp = self._fingerprint(c)
                    self._rows[c.chunk_id] = _Row(
                        c.chunk_id,
                        c.doc_id,
                        c.title,
                        c.section,
                        c.text,
                        tuple(sorted(c.groups)),
                        tuple(c.flags),
                        fp,
                    )
                    if fp not in self._cache:
                        new.append((fp, c))
            if new:
                vectors = self.embedder.encode([embedding_text(c) for _, c in new])
                for (fp, _), vec in zip(new, vectors, strict=True):
                    self._cache[fp] = vec
                self.embedded += len(new)
            live = {r.fingerprint for r in self._rows.values()}
            self._cache = {p: v for p, v in self._cache.items() if p in live}
            self._save()
            self._rebuild()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors for ``texts`` in one call to the embedder (one forward pass)."""
        return self.embedder.encode(list(texts))

    def search(
        self,
        query: str,
        reading_groups: frozenset[str],
        k: int,
        *,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Top ``k`` chunks by cosine similarity among those the groups may read.

        ``vector`` is the query's embedding when the caller has it already (else embedded here).
        """
        if not query.strip() or not reading_groups or k <= 0:
            return []
        with self._lock:
            self._load()
            permitted = self._permitted(reading_groups)
            matrix, ids, rows, order = self._matrix, self._ids, self._rows, self._order
            reduced, basis = self._reduced, self._basis
        if not permitted.count:
            return []
        if vector is None:
            vector = self.embed([query])[0]
        take = min(k, permitted.count)
        # One BLAS thread: a matrix-vector product is memory-bound, and on a shared machine
        # threads only contend (bench/policy.py).
        with blas_threads(1):
            if reduced is not None and basis is not None and self.candidates < permitted.count:
                # First pass on the projected rows, exact cosine on the best candidates.
                first = permitted.scores(reduced, vector @ basis)
                cand = permitted.rows(_top(first, self.candidates))
                # Insertion order, so equal cosines break ties as the exact search does.
                cand = cand[np.argsort(order[cand])]
                scores = matrix[cand] @ vector
                best = _top(scores, take)
                found = cand[best]
            else:
                scores = permitted.scores(matrix, vector)
                best = _top(scores, take)
                found = permitted.rows(best)
        hits: list[SearchHit] = []
        for i in _best_first(np.arange(len(best)), scores[best], order[found]):
            if scores[best[i]] >= self.min_similarity:
                chunk = rows[ids[int(found[i])]].chunk()
                hits.append(SearchHit(chunk, float(scores[best[i]]), len(hits) + 1))
        return hits

    def document_search(
        self,
        query: str,
        doc_ids: frozenset[str],
        reading_groups: frozenset[str],
        k: int,
        *,
        vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        """Top ``k`` readable chunks of the named documents by cosine, above the floor.

        Ties break by chunk id. For a question naming documents: at 100k chunks one title can
        name hundreds of documents (thousands of chunks), so rows are gathered and ranked in
        numpy, and only the ``k`` returned become ``IndexedChunk`` objects.
        """
        if not query.strip() or not reading_groups or not doc_ids or k <= 0:
            return []
        with self._lock:
            self._load()
            mask = self._mask(reading_groups)
            by_doc = self._rows_by_document()
            parts = [by_doc[d] for d in sorted(doc_ids) if d in by_doc]
            matrix, ids, rows = self._matrix, self._ids, self._rows
        found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        found = found[mask[found]]
        if not len(found):
            return []
        if vector is None:
            vector = self.embed([query])[0]
        with blas_threads(1):
            scores = matrix[found] @ vector
        keep = scores >= self.min_similarity
        found, scores = found[keep], scores[keep]
        if len(scores) > k:
            # Everything scoring at least the k-th best (ties included), then the exact order.
            kth = np.partition(scores, len(scores) - k)[len(scores) - k]
            near = scores >= kth
            found, scores = found[near], scores[near]
        ranked = sorted(
            ((ids[int(r)], float(s)) for r, s in zip(found, scores, strict=True)),
            key=lambda cs: (-cs[1], cs[0]),
        )[:k]
        return [SearchHit(rows[c].chunk(), s, rank) for rank, (c, s) in enumerate(ranked, start=1)]

    def catalogue(self) -> Catalogue:
        """Titles, groups and chunk ids per document (memoised until the index changes).

        Every hybrid question looks at the titles, so this is built on the first one after a
        change (with each document's row numbers, for questions that name a document).
        """
        with self._lock:
            self._load()
            if self._catalogue is None:
                titles: dict[str, set[str]] = {}
                groups: dict[str, frozenset[str]] = {}
                chunk_ids: dict[str, list[str]] = {}
                for r in self._rows.values():
                    titles.setdefault(norm_words(r.title), set()).add(r.doc_id)
                    groups[r.doc_id] = frozenset(r.groups)
                    chunk_ids.setdefault(r.doc_id, []).append(r.chunk_id)
                self._catalogue = Catalogue(
                    {t: frozenset(d) for t, d in titles.items() if t},
                    groups,
                    {d: tuple(c) for d, c in chunk_ids.items()},
                )
                self._rows_by_document()  # with the titles: a question naming one needs both
            return self._catalogue

    def structures(self) -> StructureIndex:
        """Every chunk's structure, for exact references (memoised until the index changes).

        Built on the first question that needs it (a reference or a "what is …"): parsing
        100k chunks takes seconds, so a question without one never pays it, and after a
        re-ingest only changed chunks are parsed again (cached by fingerprint).
        """
        with self._lock:
            self._load()
            if self._structure_index is None:
                known, self._structures = self._structures, {}
                found: dict[str, ChunkStructure] = {}
                for r in self._rows.values():
                    s = known.get(r.fingerprint) or chunk_structure(r.chunk())
                    self._structures[r.fingerprint] = found[r.chunk_id] = s
                self._structure_index = StructureIndex(found)
            return self._structure_index

    def _permitted(self, reading_groups: frozenset[str]) -> _Permitted:
        """The blocks of rows the groups may read (memoised per group set until a change)."""
        cached = self._permitted_cache.get(reading_groups)
        if cached is None:
            spans: list[tuple[int, int]] = []
            for audience, start, stop in self._blocks:
                if audience & reading_groups:
                    if spans and spans[-1][1] == start:
                        spans[-1] = (spans[-1][0], stop)  # adjacent blocks read as one
                    else:
                        spans.append((start, stop))
            cached = _Permitted(spans)
            if len(self._permitted_cache) > 256:
                self._permitted_cache.clear()
            self._permitted_cache[reading_groups] = cached
        return cached

    def _mask(self, reading_groups: frozenset[str]) -> np.ndarray:
        """Boolean row mask of what the groups may read (memoised like the blocks)."""
        cached = self._mask_cache.get(reading_groups)
        if cached is None:
            cached = np.zeros(len(self._ids), dtype=bool)
            for start, stop in self._permitted(reading_groups).spans:
                cached[start:stop] = True
            if len(self._mask_cache) > 256:
                self._mask_cache.clear()
            self._mask_cache[reading_groups] = cached
        return cached

    def _rows_by_document(self) -> dict[str, np.ndarray]:
        """Row numbers of each document's chunks, in the order they were added.

        Built in numpy (a dict of 100k positions took ~0.3 s): a stable sort of the insertion
        order by document, split per document, mapped to the (audience-grouped) row numbers.
        """
        if self._doc_rows is None:
            code: dict[str, int] = {}
            docs = np.fromiter(
                (code.setdefault(r.doc_id, len(code)) for r in self._rows.values()),
                dtype=np.int64,
                count=len(self._rows),
            )
            inserted = np.empty_like(self._order)
            inserted[self._order] = np.arange(len(self._order))  # insertion index -> row
            by_doc = np.argsort(docs, kind="stable")
            bounds = np.searchsorted(docs[by_doc], np.arange(1, len(code)))
            parts = np.split(inserted[by_doc], bounds) if code else []  # empty index: none
            self._doc_rows = dict(zip(code, parts, strict=True))
        return self._doc_rows

    def chunks(self) -> list[IndexedChunk]:
        """Every indexed chunk (for exact reference lookups; callers filter by groups)."""
        with self._lock:
            self._load()
            return [r.chunk() for r in self._rows.values()]

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> list[IndexedChunk]:
        """The named chunks that are indexed, in the order given."""
        with self._lock:
            self._load()
            return [self._rows[c].chunk() for c in chunk_ids if c in self._rows]

    def count(self) -> int:
        """Number of chunks with a vector."""
        with self._lock:
            self._load()
            return len(self._rows)

    def clear(self) -> None:
        """Forget every chunk, but keep the vectors as a cache for the rebuild that follows."""
        with self._lock:
            self._load()
            self._rows = {}
            self._save()
            self._rebuild()


def _principal_directions(
    matrix: np.ndarray, dim: int, inserted: np.ndarray, sample: int = 20_000
) -> np.ndarray:
    """``matrix.shape[1] x dim`` orthonormal basis of the rows' main directions (uncentred).

    Dot products are preserved best by the top eigenvectors of ``X^T X`` (no centring: a
    query's score is a dot product with the raw row). A fixed, evenly spaced sample of rows
    (every ``step``-th of ``inserted``, the row numbers in insertion order) keeps the cost
    bounded and the result deterministic.
    """
    step = max(1, len(matrix) // sample)
    rows = matrix[inserted[::step]].astype(np.float64)
    _values, vectors = np.linalg.eigh(rows.T @ rows)  # ascending eigenvalues
    basis: np.ndarray = np.ascontiguousarray(vectors[:, ::-1][:, :dim].astype(np.float32))
    return basis


class _Permitted:
    """The rows a group set may read, as contiguous spans of the row-grouped matrix."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        lengths = [stop - start for start, stop in spans]
        self.count = sum(lengths)
        self._starts = np.array([start for start, _ in spans], dtype=np.int64)
        self._offsets = np.cumsum([0, *lengths[:-1]]).astype(np.int64)

    def scores(self, matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """``matrix @ vector`` over the permitted spans only, concatenated in span order."""
        if len(self.spans) == 1:
            start, stop = self.spans[0]
            one: np.ndarray = matrix[start:stop] @ vector
            return one
        out = np.empty(self.count, dtype=np.result_type(matrix, vector))
        for (start, stop), offset in zip(self.spans, self._offsets, strict=True):
            np.matmul(matrix[start:stop], vector, out=out[offset : offset + stop - start])
        return out

    def rows(self, places: np.ndarray) -> np.ndarray:
        """Row numbers of places in the concatenated scores."""
        span = np.searchsorted(self._offsets, places, side="right") - 1
        found: np.ndarray = self._starts[span] + (places - self._offsets[span])
        return found


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Places of the ``k`` highest scores, in no particular order."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k == len(scores):
        return np.arange(k)
    top: np.ndarray = np.argpartition(-scores, k - 1)[:k]
    return top


def _best_first(places: np.ndarray, scores: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """``places`` ordered by ``scores`` (one per place), highest first; equal by ``ties``."""
    ordered: np.ndarray = places[np.lexsort((ties, -scores))]
    return ordered
