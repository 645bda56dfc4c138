"""Benchmark the policy assistant's ingest and search at 10k and 100k chunks.

    .venv/bin/python bench/policy.py [--sizes 10000,100000] [--queries 300] [--seed 7]

Chunks are synthesized from the generated policy corpus: each copy of a document gets a new
id, a rotated audience (one of several groups, or everyone), and its numbers and sentence
order varied, so the index sees many distinct but realistic passages.

Figures printed:
- ingest throughput (pages/s, 1 page = 3,000 characters) through the whole path: parse,
  chunk, injection scan, SQLite store, tantivy index, and for hybrid the MiniLM embeddings;
  BM25-only and hybrid on the same ``--ingest-chunks`` corpus in the same run (embedding is
  the slow step, so this corpus is smaller than the query corpora);
- index build time and query latency p50/p99 with the ACL filter, for tantivy alone (BM25),
  hybrid (tantivy + dense search + reciprocal rank fusion, query embedding included) and the
  peer bm25s (ACL applied with its ``weights_mask``, i.e. also inside scoring), on the same
  chunks and queries in the same run. bm25s is in the ``bench`` extra;
- hybrid on questions that name a policy by title ("What does the <title> say about …"),
  which take the within-document searches as well (``--queries`` / 2 of them);
- dense alone (``mode="dense"``, query embedding included), the dense search alone on a
  memoised query vector (two-stage and exact), and the query embedding alone.

Every row gives wall-clock p50/p99 and the CPU time of the calling thread (p50/p99): on a
shared machine the wall clock includes waiting for a core, the CPU time does not. The load
average is printed before and after each size.

Vectors at 10k/100k chunks: the ~500 distinct chunks of the generated corpus are embedded with
MiniLM for real; each synthesized copy of a chunk gets its original's vector plus small noise
(renormalized), because embedding 100k chunks on this machine would take hours. Search cost
does not depend on what the vectors mean; the query vectors are real MiniLM vectors, computed
inside the timed call (the per-process memo is cleared between sizes).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bankml.app import Services
from bankml.core.settings import load_settings
from bankml.data.policy_corpus import build_policy_corpus
from bankml.policy.dense import DenseIndex, embedding_text
from bankml.policy.documents import PolicyDocument, chunk_document, parse_markdown
from bankml.policy.embeddings import MiniLMEmbedder, embedder_available
from bankml.policy.hybrid import HybridIndex
from bankml.policy.index import IndexedChunk, TantivyIndex, query_terms

GROUPS = ["everyone", "treasury", "hr", "credit-risk", "security", "aml-investigations"]


def synth_docs(n_chunks: int, seed: int) -> list[tuple[str, str]]:
    """(file name, markdown) pairs whose chunks add up to about ``n_chunks``."""
    rng = random.Random(seed)
    base = build_policy_corpus(seed)
    out: list[tuple[str, str]] = []
    total = copy = 0
    while total < n_chunks:
        copy += 1
        for d in base:
            groups = rng.choice(GROUPS)
            text = d.markdown.replace(f"id: {d.id}", f"id: {d.id}-C{copy}", 1)
            text = re.sub(r"allowed_groups:\n(  - .*\n)+", f"allowed_groups:\n  - {groups}\n", text)
            head, sep, body = text.partition("\n---\n")
            body = re.sub(r"\b(\d+)\b", lambda m: str(int(m.group(1)) + rng.randint(0, 9)), body)
            text = head + sep + body
            out.append((f"{d.id}-C{copy}.md", text))
            total += text.count("\n## ") + 1
            if total >= n_chunks:
                break
    return out


def to_chunks(docs: list[tuple[str, str]]) -> list[IndexedChunk]:
    """Parse and chunk in memory (for the index-only comparison)."""
    chunks = []
    for name, text in docs:
        meta, body = parse_markdown(text, name)
        doc = PolicyDocument(
            meta.doc_id or name,
            meta.title or name,
            "o",
            "internal",
            meta.allowed_groups or frozenset(),
            None,
            name,
            "md",
            body,
            1,
        )
        chunks += [
            IndexedChunk(c.chunk_id, c.doc_id, doc.title, c.section, c.text, doc.allowed_groups)
            for c in chunk_document(doc)
        ]
    return chunks


def pct(values: list[float], q: float) -> float:
    """Percentile in milliseconds."""
    return float(np.percentile(np.array(values) * 1e3, q))


Row = tuple[float, float, float, float, float]  # build s, p50, p99, cpu p50, cpu p99 (ms)


def timed(build: float, calls: list[Callable[[], object]]) -> Row:
    """Run each call once; wall-clock and thread CPU percentiles."""
    wall, cpu = [], []
    for call in calls:
        t, c = time.perf_counter(), time.thread_time()
        call()
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - t)
    return (build, pct(wall, 50), pct(wall, 99), pct(cpu, 50), pct(cpu, 99))


def load() -> str:
    """The 1-minute load average, for the figures' context."""
    return f"{os.getloadavg()[0]:.2f}"


def bench_ingest(docs: list[tuple[str, str]], work: Path, retrieval: str) -> tuple[int, int, float]:
    folder = work / f"corpus-{retrieval}"
    folder.mkdir()
    for name, text in docs:
        (folder / name).write_text(text, encoding="utf-8")
    svc = Services(
        load_settings(
            home=work / f"home-{retrieval}",
            env="test",
            secret_key=secrets.token_urlsafe(48),
            policy_retrieval=retrieval,
        )
    )
    t0 = time.perf_counter()
    report = svc.policy.ingest([folder], actor="bench")
    seconds = time.perf_counter() - t0
    svc.close()
    return report.pages, report.chunks, seconds


def _strip_copy(chunk_id: str) -> str:
    return re.sub(r"\d+", "", re.sub(r"-C\d+#", "#", chunk_id))


class NoisyCopies:
    """An embedder answering synthesized copies with their original's vector plus noise."""

    def __init__(self, model: MiniLMEmbedder, base: dict[str, np.ndarray], seed: int) -> None:
        self.model = model
        self.base = {_strip_copy(cid): v for cid, v in base.items()}
        self.fallback = list(base.values())
        self.name, self.dim = model.name, model.dim
        self.rng = np.random.default_rng(seed)
        self.by_text: dict[str, np.ndarray] = {}

    def register(self, chunk: IndexedChunk) -> None:
        # Copies vary the numbers, headings included: match the original without digits, and
        # fall back to any original's vector, so no synthesized chunk is embedded for real.
        original = _strip_copy(chunk.chunk_id)
        vec = self.base.get(original)
        if vec is None:
            vec = self.fallback[int(self.rng.integers(len(self.fallback)))]
        noisy = vec + self.rng.normal(0, 0.02, size=vec.shape).astype(np.float32)
        self.by_text[embedding_text(chunk)] = noisy / np.linalg.norm(noisy)

    def encode(self, texts: list[str]) -> np.ndarray:
        known = [t in self.by_text for t in texts]
        if all(known):
            return np.stack([self.by_text[t] for t in texts]) if texts else self.model.encode([])
        return self.model.encode(texts)


def base_vectors(model: MiniLMEmbedder, seed: int) -> dict[str, np.ndarray]:
    """Real MiniLM vectors of the generated corpus's chunks, by chunk id."""
    chunks = to_chunks([(f"{d.id}.md", d.markdown) for d in build_policy_corpus(seed)])
    vectors = model.encode([embedding_text(c) for c in chunks])
    return {c.chunk_id: v for c, v in zip(chunks, vectors, strict=True)}


def bench_queries(
    chunks: list[IndexedChunk],
    queries: list[tuple[str, frozenset[str]]],
    work: Path,
    noisy: NoisyCopies | None,
    named: list[tuple[str, frozenset[str]]] | None = None,
) -> dict[str, Row]:
    results: dict[str, Row] = {}
    # ours: tantivy with the ACL inside the query
    index = TantivyIndex(work / f"tantivy-{len(chunks)}")
    t0 = time.perf_counter()
    by_doc: dict[str, list[IndexedChunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    index.replace_documents(by_doc)
    build = time.perf_counter() - t0
    index.search("warm up", frozenset({"everyone"}), 10)

    def search(target: Any, q: str, groups: frozenset[str], **kw: Any) -> Callable[[], object]:
        return lambda: target.search(q, groups, 10, **kw)

    results["BM25 (tantivy)"] = timed(build, [search(index, q, g) for q, g in queries])
    if noisy is not None:
        for c in chunks:
            noisy.register(c)
        dense = DenseIndex(None, noisy)
        t0 = time.perf_counter()
        dense.replace_documents(by_doc)
        dense.catalogue()  # titles per document, built on the first hybrid query otherwise
        build = time.perf_counter() - t0
        hybrid = HybridIndex(index, dense)
        memo = noisy.model._memo

        def cold(call: Callable[[], object]) -> Callable[[], object]:
            # Every query is embedded inside the timed call: the memo is emptied before it.
            return lambda: (memo.clear(), call())

        hybrid.search("warm up", frozenset({"everyone"}), 10)
        results["hybrid"] = timed(build, [cold(search(hybrid, q, g)) for q, g in queries])
        results["dense"] = timed(
            0.0, [cold(search(hybrid, q, g, mode="dense")) for q, g in queries]
        )
        results["  query embedding"] = timed(
            0.0, [cold(lambda q=q: noisy.model.encode([q])) for q, _ in queries]
        )
        # The two-stage dense search (large indexes) against the exact product over all rows:
        # same top-10 chunks? (query vectors are memoised now: this times the search alone)
        exact = DenseIndex(None, noisy, reduce_above=len(chunks) + 1)
        exact.replace_documents(by_doc)
        for q, _ in queries:
            noisy.model.encode([q])
        results["  dense search"] = timed(0.0, [search(dense, q, g) for q, g in queries])
        results["  dense exact"] = timed(0.0, [search(exact, q, g) for q, g in queries])
        same = sum(
            [h.chunk.chunk_id for h in dense.search(q, g, 10)]
            == [h.chunk.chunk_id for h in exact.search(q, g, 10)]
            for q, g in queries
        )
        print(
            f"  dense top-10 identical to the exact search for {same}/{len(queries)} queries"
            f" ({'two-stage' if dense._reduced is not None else 'exact'} search at this size)"
        )
        if named:
            # Questions naming a policy by title take the extra within-document searches (and
            # "what does …" the definition lookup). The synthesized copies share their
            # original's title, so a title names one document per copy here (hundreds at
            # 100k): a worst case for that path. Chunk structures (for the definition and
            # reference lookups) are parsed once per index change, on first need: timed apart.
            t = time.perf_counter()
            dense.structures()
            results["  structures"] = (time.perf_counter() - t, 0.0, 0.0, 0.0, 0.0)
            results["hybrid, titled"] = timed(0.0, [cold(search(hybrid, q, g)) for q, g in named])
        memo.clear()
    try:
        import bm25s
    except ImportError:
        print("  bm25s not installed (pip install -e '.[bench]'); peer skipped", file=sys.stderr)
        return results
    t0 = time.perf_counter()
    corpus_tokens = bm25s.tokenize(
        [f"{c.title} {c.section} {c.text}" for c in chunks], stopwords="en", show_progress=False
    )
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    group_masks = {g: np.array([g in c.groups for c in chunks], dtype=np.float32) for g in GROUPS}
    build = time.perf_counter() - t0

    def peer(q: str, groups: frozenset[str]) -> Callable[[], object]:
        def call() -> object:
            mask = np.zeros(len(chunks), dtype=np.float32)
            for g in groups:
                if g in group_masks:
                    mask = np.maximum(mask, group_masks[g])
            tokens = bm25s.tokenize([" ".join(query_terms(q))], stopwords="en", show_progress=False)
            return retriever.retrieve(
                tokens, k=10, weight_mask=mask, show_progress=False, n_threads=1
            )

        return call

    results["bm25s (peer)"] = timed(build, [peer(q, g) for q, g in queries])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ingest-chunks", type=int, default=600)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    corpus = build_policy_corpus(args.seed)
    rules = [r.text for d in corpus for r in d.rules]
    titled = [(d.title, r.text) for d in corpus for r in d.rules]
    titled_rng = random.Random(args.seed + 1)  # apart, so the plain queries stay as they were
    with tempfile.TemporaryDirectory(prefix="bankml-bench-policy-") as tmp:
        work = Path(tmp)
        docs = synth_docs(args.ingest_chunks, args.seed) if args.ingest_chunks else []
        retrievals = ["bm25", "hybrid"] if embedder_available() else ["bm25"]
        if not docs:
            retrievals = []  # --ingest-chunks 0: query latency only
        for retrieval in retrievals:
            pages, n_chunks, seconds = bench_ingest(docs, work, retrieval)
            print(
                f"ingest {retrieval:<6} (parse, chunk, guard, store, index"
                f"{', embed' if retrieval == 'hybrid' else ''}): {len(docs):,} docs, "
                f"{n_chunks:,} chunks, {pages:,} pages in {seconds:.1f}s = "
                f"{pages / seconds:,.1f} pages/s, {n_chunks / seconds:,.1f} chunks/s"
            )
        noisy = None
        if embedder_available():
            model = MiniLMEmbedder()
            noisy = NoisyCopies(model, base_vectors(model, args.seed), args.seed)
        print(
            f"{'chunks':>8} {'index':<18} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8}"
            f" {'cpu p50':>8} {'cpu p99':>8}"
        )
        for size in sizes:
            chunks = to_chunks(synth_docs(size, args.seed))
            queries = []
            for _ in range(args.queries):
                words = query_terms(rng.choice(rules))
                rng.shuffle(words)
                groups = frozenset({"everyone", rng.choice(GROUPS)})
                queries.append((" ".join(words[:5]), groups))
            named = []
            for _ in range(args.queries // 2):
                title, rule = titled_rng.choice(titled)
                words = query_terms(rule)
                titled_rng.shuffle(words)
                groups = frozenset({"everyone", titled_rng.choice(GROUPS)})
                named.append((f"What does the {title} say about {' '.join(words[:3])}?", groups))
            before = load()
            timings = bench_queries(chunks, queries, work, noisy, named)
            for name, (build, p50, p99, c50, c99) in timings.items():
                print(
                    f"{len(chunks):>8,} {name:<18} {build:>8.1f} {p50:>8.2f} {p99:>8.2f}"
                    f" {c50:>8.2f} {c99:>8.2f}"
                )
            print(f"  load average {before} before, {load()} after ({os.cpu_count()} cores)")
    print(f"python {sys.version.split()[0]} on {sys.platform}; {len(queries)} queries per size")


if __name__ == "__main__":
    main()
