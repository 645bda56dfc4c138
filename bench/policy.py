"""Benchmark the policy assistant's ingest and search at 10k and 100k chunks.

    .venv/bin/python bench/policy.py [--sizes 10000,100000] [--queries 300] [--seed 7]

Chunks are synthesized from the generated policy corpus: each copy of a document gets a new
id, a rotated audience (one of several groups, or everyone), and its numbers and sentence
order varied, so the index sees many distinct but realistic passages.

Figures printed:
- ingest throughput (pages/s, 1 page = 3,000 characters) through the whole path: parse,
  chunk, injection scan, SQLite store, tantivy index; measured on the 10k-chunk corpus;
- index build time and query latency p50/p99 with the ACL filter, for tantivy (ours) and
  its peer bm25s (ACL applied with its ``weights_mask``, i.e. also inside scoring), on the
  same chunks and queries in the same run. bm25s is in the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import random
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bankml.app import Services
from bankml.core.settings import load_settings
from bankml.data.policy_corpus import build_policy_corpus
from bankml.policy.documents import PolicyDocument, chunk_document, parse_markdown
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


def bench_ingest(docs: list[tuple[str, str]], work: Path) -> tuple[int, int, float]:
    folder = work / "corpus"
    folder.mkdir()
    for name, text in docs:
        (folder / name).write_text(text, encoding="utf-8")
    svc = Services(
        load_settings(home=work / "home", env="test", secret_key=secrets.token_urlsafe(48))
    )
    t0 = time.perf_counter()
    report = svc.policy.ingest([folder], actor="bench")
    seconds = time.perf_counter() - t0
    svc.close()
    return report.pages, report.chunks, seconds


def bench_queries(
    chunks: list[IndexedChunk], queries: list[tuple[str, frozenset[str]]], work: Path
) -> dict[str, tuple[float, float, float]]:
    results: dict[str, tuple[float, float, float]] = {}
    # ours: tantivy with the ACL inside the query
    index = TantivyIndex(work / f"tantivy-{len(chunks)}")
    t0 = time.perf_counter()
    by_doc: dict[str, list[IndexedChunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    index.replace_documents(by_doc)
    build = time.perf_counter() - t0
    index.search("warm up", frozenset({"everyone"}), 10)
    lat = []
    for q, groups in queries:
        t = time.perf_counter()
        index.search(q, groups, 10)
        lat.append(time.perf_counter() - t)
    results["tantivy (ours)"] = (build, pct(lat, 50), pct(lat, 99))
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
    lat = []
    for q, groups in queries:
        t = time.perf_counter()
        mask = np.zeros(len(chunks), dtype=np.float32)
        for g in groups:
            if g in group_masks:
                mask = np.maximum(mask, group_masks[g])
        tokens = bm25s.tokenize([" ".join(query_terms(q))], stopwords="en", show_progress=False)
        retriever.retrieve(tokens, k=10, weight_mask=mask, show_progress=False, n_threads=1)
        lat.append(time.perf_counter() - t)
    results["bm25s (peer)"] = (build, pct(lat, 50), pct(lat, 99))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(args.seed)
    rules = [r.text for d in build_policy_corpus(args.seed) for r in d.rules]
    with tempfile.TemporaryDirectory(prefix="bankml-bench-policy-") as tmp:
        work = Path(tmp)
        docs = synth_docs(sizes[0], args.seed)
        pages, n_chunks, seconds = bench_ingest(docs, work)
        print(
            f"ingest (parse, chunk, guard, SQLite store, tantivy index): {len(docs):,} docs, "
            f"{n_chunks:,} chunks, {pages:,} pages in {seconds:.1f}s = "
            f"{pages / seconds:,.0f} pages/s, {n_chunks / seconds:,.0f} chunks/s"
        )
        print(f"{'chunks':>8} {'index':<16} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8}")
        for size in sizes:
            chunks = to_chunks(synth_docs(size, args.seed))
            queries = []
            for _ in range(args.queries):
                words = query_terms(rng.choice(rules))
                rng.shuffle(words)
                groups = frozenset({"everyone", rng.choice(GROUPS)})
                queries.append((" ".join(words[:5]), groups))
            for name, (build, p50, p99) in bench_queries(chunks, queries, work).items():
                print(f"{len(chunks):>8,} {name:<16} {build:>8.1f} {p50:>8.2f} {p99:>8.2f}")
    print(f"python {sys.version.split()[0]} on {sys.platform}; {len(queries)} queries per size")


if __name__ == "__main__":
    main()
