"""Full-text chunk index with the access-control filter inside the query.

The port is ``ChunkIndex``; ``TantivyIndex`` is the on-disk adapter (BM25, chosen over bm25s
by measurement: see ``bench/policy.py``), ``MemoryIndex`` an in-memory brute-force BM25 for
tests and as the benchmark's correctness peer.

Why inside the query: filtering a global top-k afterwards both loses permitted results (they
were crowded out by restricted ones) and lets restricted documents shape what is returned.
Here a chunk whose groups do not intersect the caller's reading groups never matches, so it is
never scored, ranked or counted. A chunk of a document with no groups matches nobody.

The catch: BM25's term statistics (IDF) are computed over the whole index, so a score is a
faint function of restricted text. Results show scores rounded to two decimals; a deployment
that must rule out even that side channel keeps one index per audience.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "ChunkIndex",
    "IndexedChunk",
    "MemoryIndex",
    "SearchHit",
    "TantivyIndex",
    "query_terms",
    "stem",
]

log = logging.getLogger(__name__)

# Common English words carry no meaning for retrieval; dropping them also keeps the lenient
# query small. Policy words like "must" and "not" stay out too: every rule has them.
_STOPWORDS_TEXT = """
a an and are as at be by can could do does did for from has have how i if in into is it
its me my of on or our shall should so than that the their them then there these this
those to under up was we were what when where which who whom why will with would you
your about any all may must not no please tell say says according policy policies
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD_RE = re.compile(r"[A-Za-z0-9]+")
_WRITER_HEAP = 64_000_000


def query_terms(text: str) -> list[str]:
    """Lower-cased content words of a query, stopwords removed, order kept, no duplicates."""
    seen: dict[str, None] = {}
    for w in _WORD_RE.findall(text.lower()):
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit()):
            seen.setdefault(w, None)
    return list(seen)


@dataclass(frozen=True)
class IndexedChunk:
    """What the index stores per chunk: enough to rank, filter and show it."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    groups: frozenset[str]
    flags: tuple[str, ...] = ()  # injection signal kinds found at ingest


@dataclass(frozen=True)
class SearchHit:
    """One ranked, permitted chunk."""

    chunk: IndexedChunk
    score: float
    rank: int


class ChunkIndex(Protocol):
    """Where chunks are searched. Every search names the caller's reading groups."""

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Drop the document's old chunks and add these (empty: remove the document)."""

    def replace_documents(self, docs: dict[str, Sequence[IndexedChunk]]) -> None:
        """Several ``replace_document`` calls in one commit."""

    def search(
        self,
        query: str,
        reading_groups: frozenset[str],
        k: int,
        doc_ids: frozenset[str] | None = None,
    ) -> list[SearchHit]:
        """Top ``k`` chunks among those readable by ``reading_groups`` (and in ``doc_ids``)."""

    def count(self) -> int:
        """How many chunks are indexed (operators only; never shown to a user)."""

    def clear(self) -> None:
        """Remove everything."""


class TantivyIndex:
    """The on-disk BM25 index (tantivy), one folder in ``BANKML_HOME``.

    Opened lazily; a writer is held only while documents change, so a running API server and a
    CLI ingest can share the folder (tantivy's own lock serialises writers).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._index: Any = None

    @staticmethod
    def _schema() -> Any:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        sb.add_text_field("doc_id", stored=True, tokenizer_name="raw")
        sb.add_text_field("groups", stored=True, tokenizer_name="raw")
        sb.add_text_field("flags", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("section", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
        return sb.build()

    def _open(self) -> Any:
        import tantivy

        if self._index is None:
            self.path.mkdir(parents=True, exist_ok=True)
            schema = self._schema()
            try:
                self._index = tantivy.Index(schema, path=str(self.path), reuse=True)
            except ValueError:
                # An index written by an incompatible schema: it is derived data, rebuild it.
                log.warning("policy index at %s has another schema; recreating it", self.path)
                shutil.rmtree(self.path)
                self.path.mkdir(parents=True)
                self._index = tantivy.Index(schema, path=str(self.path), reuse=False)
        return self._index

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Drop the document's old chunks and add these, in one commit."""
        self.replace_documents({doc_id: chunks})

    def replace_documents(self, docs: dict[str, Sequence[IndexedChunk]]) -> None:
        """Replace several documents in one commit (readers see all or none of it)."""
        import tantivy

        index = self._open()
        writer = index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        try:
            for doc_id, chunks in docs.items():
                writer.delete_documents_by_term("doc_id", doc_id)
                for c in chunks:
                    writer.add_document(
                        tantivy.Document(
                            chunk_id=c.chunk_id,
                            doc_id=c.doc_id,
                            groups=sorted(c.groups),
                            flags=list(c.flags),
                            title=c.title,
                            section=c.section,
                            body=c.text,
                        )
                    )
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()  # releases the writer lock
        index.reload()

    def search(
        self,
        query: str,
        reading_groups: frozenset[str],
        k: int,
        doc_ids: frozenset[str] | None = None,
    ) -> list[SearchHit]:
        """BM25 over title, section and body, restricted to chunks the groups may read.

        ``doc_ids`` restricts the search to those documents, inside the query like the groups.
        """
        import tantivy

        terms = query_terms(query)
        if not terms or not reading_groups or k <= 0:
            return []
        index = self._open()
        index.reload()
        schema = index.schema
        # Terms come from our own word regex, so the query language sees only plain words.
        text_query = index.parse_query(
            " ".join(terms),
            ["title", "section", "body"],
            field_boosts={"title": 1.5, "section": 2.0, "body": 1.0},
        )
        acl = tantivy.Query.const_score_query(
            tantivy.Query.term_set_query(schema, "groups", sorted(reading_groups)), 0.0
        )
        clauses = [(tantivy.Occur.Must, text_query), (tantivy.Occur.Must, acl)]
        if doc_ids is not None:
            if not doc_ids:
                return []
            docs = tantivy.Query.term_set_query(schema, "doc_id", sorted(doc_ids))
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(docs, 0.0)))
        query_obj = tantivy.Query.boolean_query(clauses)
        searcher = index.searcher()
        hits: list[SearchHit] = []
        for rank, (score, address) in enumerate(searcher.search(query_obj, k).hits, start=1):
            d = searcher.doc(address)
            hits.append(
                SearchHit(
                    IndexedChunk(
                        chunk_id=d["chunk_id"][0],
                        doc_id=d["doc_id"][0],
                        title=d["title"][0],
                        section=d["section"][0],
                        text=d["body"][0],
                        groups=frozenset(d["groups"]),
                        flags=tuple(d.to_dict().get("flags") or ()),
                    ),
                    float(score),
                    rank,
                )
            )
        return hits

    def count(self) -> int:
        """Number of indexed chunks."""
        index = self._open()
        index.reload()
        return int(index.searcher().num_docs)

    def clear(self) -> None:
        """Delete the index folder; the next use starts empty."""
        self._index = None
        shutil.rmtree(self.path, ignore_errors=True)


_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ed", "es", "s")


def stem(word: str) -> str:
    """A light English suffix stripper (plurals, -ing, -ed, -ation)."""
    # A deliberately small stemmer: enough for tests and for the brute-force peer to agree
    # with tantivy on plurals and -ing forms, without pulling in a stemming library.
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def _tokens(text: str) -> list[str]:
    return [stem(w) for w in _WORD_RE.findall(text.lower())]


class MemoryIndex:
    """BM25 by brute force over an in-memory list: the test fake and the benchmark's peer.

    The ACL filter is applied before scoring, exactly like the real index.
    """

    K1, B = 1.2, 0.75

    def __init__(self) -> None:
        self._chunks: dict[str, IndexedChunk] = {}
        self._tf: dict[str, Counter[str]] = {}
        self._df: Counter[str] = Counter()
        self._total_len = 0

    def replace_document(self, doc_id: str, chunks: Sequence[IndexedChunk]) -> None:
        """Drop the document's old chunks and add these."""
        for cid in [c for c, ch in self._chunks.items() if ch.doc_id == doc_id]:
            tf = self._tf.pop(cid)
            self._df.subtract(tf.keys())
            self._total_len -= sum(tf.values())
            del self._chunks[cid]
        for c in chunks:
            tf = Counter(_tokens(f"{c.title} {c.section} {c.text}"))
            self._chunks[c.chunk_id] = c
            self._tf[c.chunk_id] = tf
            self._df.update(tf.keys())
            self._total_len += sum(tf.values())

    def replace_documents(self, docs: dict[str, Sequence[IndexedChunk]]) -> None:
        """Several replacements."""
        for doc_id, chunks in docs.items():
            self.replace_document(doc_id, chunks)

    def search(
        self,
        query: str,
        reading_groups: frozenset[str],
        k: int,
        doc_ids: frozenset[str] | None = None,
    ) -> list[SearchHit]:
        """Brute-force BM25 over the permitted chunks (of ``doc_ids``, when given) only."""
        terms = [stem(t) for t in query_terms(query)]
        if not terms or not reading_groups or k <= 0:
            return []
        n = max(len(self._chunks), 1)
        avg = self._total_len / n if self._total_len else 1.0
        scored: list[tuple[float, str]] = []
        for cid, chunk in self._chunks.items():
            if not (chunk.groups & reading_groups):
                continue
            if doc_ids is not None and chunk.doc_id not in doc_ids:
                continue
            tf = self._tf[cid]
            length = sum(tf.values())
            score = 0.0
            for t in terms:
                f = tf.get(t, 0)
                if f:
                    idf = math.log(1 + (n - self._df[t] + 0.5) / (self._df[t] + 0.5))
                    score += (
                        idf
                        * f
                        * (self.K1 + 1)
                        / (f + self.K1 * (1 - self.B + self.B * length / avg))
                    )
            if score > 0:
                scored.append((score, cid))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [
            SearchHit(self._chunks[cid], s, i) for i, (s, cid) in enumerate(scored[:k], start=1)
        ]

    def count(self) -> int:
        """Number of chunks held."""
        return len(self._chunks)

    def clear(self) -> None:
        """Forget everything."""
        self.__init__()  # type: ignore[misc]


def group_chunks(chunks: Iterable[IndexedChunk]) -> dict[str, list[IndexedChunk]]:
    """Chunks grouped by document id, in order."""
    out: dict[str, list[IndexedChunk]] = defaultdict(list)
    for c in chunks:
        out[c.doc_id].append(c)
    return dict(out)
