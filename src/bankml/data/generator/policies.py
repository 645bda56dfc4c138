"""The bank's policy corpus, written as one Markdown file per document."""

from __future__ import annotations

from pathlib import Path

from bankml.data.generator._common import ProgressFn
from bankml.data.generator.writing import POLICY_DIR, write_bytes_atomic
from bankml.data.policy_corpus import build_policy_corpus


def write_policies(out: Path, seed: int, report: ProgressFn) -> list[str]:
    """Render the corpus for ``seed`` into ``out/policies``; return the paths written."""
    docs = build_policy_corpus(seed)
    report("policies", 0, len(docs))
    policy_dir = out / POLICY_DIR
    policy_dir.mkdir(exist_ok=True)
    written = []
    for i, doc in enumerate(docs, 1):
        write_bytes_atomic(policy_dir / f"{doc.id}.md", doc.markdown.encode("utf-8"))
        written.append(f"{POLICY_DIR}/{doc.id}.md")
        report("policies", i, len(docs))
    return written
