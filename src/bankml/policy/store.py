"""The policy document store in the app database: documents, chunks, findings, answers.

This is the source of truth; the search index is derived from it and can be rebuilt from it
on any replica (``PolicyStore.fingerprint`` tells when the two disagree). Every read that
could reach a user goes through ``readable_doc_ids`` with the caller's reading groups.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from bankml.core.clock import Clock, SystemClock, utc_iso
from bankml.core.ids import resolve_prefix, sql_prefix_lookup
from bankml.core.storage import Database
from bankml.policy.documents import Chunk, PolicyDocument
from bankml.policy.index import IndexedChunk
from bankml.policy.tables import policy_answers, policy_chunks, policy_documents, policy_findings

__all__ = ["AnswerRecord", "Finding", "PolicyStore", "StoredDocument", "split_groups"]


def split_groups(text: str) -> frozenset[str]:
    """Parse the stored comma-separated group list."""
    return frozenset(g for g in text.split(",") if g)


@dataclass(frozen=True)
class StoredDocument:
    """A document row as stored (no body: chunks carry the text)."""

    doc_id: str
    title: str
    owner: str
    classification: str
    allowed_groups: frozenset[str]
    effective_date: str | None
    source: str
    pages: int
    content_hash: str


@dataclass(frozen=True)
class Finding:
    """A chunk flagged as a possible prompt injection, for the document's owner."""

    id: int
    doc_id: str
    chunk_id: str
    owner: str
    kinds: tuple[str, ...]
    excerpt: str
    status: str
    created_at: str


@dataclass(frozen=True)
class AnswerRecord:
    """An answer as given (question already redacted)."""

    id: str
    asked_by: str
    question: str
    question_key: str
    answer: str
    citations: list[dict[str, Any]]
    abstained: bool
    flags: tuple[str, ...]
    created_at: str


class PolicyStore:
    """Reads and writes the policy tables."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self._db = db
        self._clock = clock or SystemClock()

    # -- documents and chunks -------------------------------------------------------------
    def document_hashes(self) -> dict[str, str]:
        """Content hash per stored document id."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(policy_documents.c.doc_id, policy_documents.c.content_hash))
            return {str(r.doc_id): str(r.content_hash) for r in rows}

    def documents_from(self, source_prefixes: Sequence[str]) -> list[StoredDocument]:
        """Stored documents whose source path starts with one of the prefixes."""
        return [d for d in self.documents() if any(d.source.startswith(p) for p in source_prefixes)]

    def documents(self) -> list[StoredDocument]:
        """All stored documents (operators only; users see ``readable_documents``)."""
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(policy_documents).order_by(policy_documents.c.doc_id))
            return [_to_doc(r._mapping) for r in rows]

    def readable_doc_ids(self, reading_groups: frozenset[str], doc_ids: Iterable[str]) -> set[str]:
        """The subset of ``doc_ids`` that exist now and that ``reading_groups`` may read."""
        wanted = set(doc_ids)
        if not wanted:
            return set()
        with self._db.engine.connect() as conn:
            rows = conn.execute(
                select(policy_documents.c.doc_id, policy_documents.c.allowed_groups).where(
                    policy_documents.c.doc_id.in_(sorted(wanted))
                )
            )
            return {
                str(r.doc_id) for r in rows if split_groups(str(r.allowed_groups)) & reading_groups
            }

    def save_document(
        self, doc: PolicyDocument, chunks: Sequence[Chunk], flags: dict[str, tuple[str, ...]]
    ) -> None:
        """Insert or replace a document and its chunks in one transaction."""
        now = utc_iso(self._clock.now())
        row = {
            "title": doc.title,
            "owner": doc.owner,
            "classification": doc.classification,
            "allowed_groups": ",".join(sorted(doc.allowed_groups)),
            "effective_date": doc.effective_date,
            "source": doc.source,
            "format": doc.format,
            "pages": doc.pages,
            "content_hash": doc.content_hash,
            "ingested_at": now,
        }
        with self._db.engine.begin() as conn:
            conn.execute(delete(policy_chunks).where(policy_chunks.c.doc_id == doc.doc_id))
            exists = conn.execute(
                select(policy_documents.c.doc_id).where(policy_documents.c.doc_id == doc.doc_id)
            ).first()
            if exists:
                conn.execute(
                    update(policy_documents)
                    .where(policy_documents.c.doc_id == doc.doc_id)
                    .values(**row)
                )
            else:
                conn.execute(insert(policy_documents).values(doc_id=doc.doc_id, **row))
            if chunks:
                conn.execute(
                    insert(policy_chunks),
                    [
                        {
                            "chunk_id": c.chunk_id,
                            "doc_id": c.doc_id,
                            "ordinal": c.ordinal,
                            "section": c.section,
                            "text": c.text,
                            "content_hash": c.content_hash,
                            "flags": ",".join(flags.get(c.chunk_id, ())),
                        }
                        for c in chunks
                    ],
                )

    def delete_document(self, doc_id: str) -> None:
        """Remove a document and its chunks."""
        with self._db.engine.begin() as conn:
            conn.execute(delete(policy_chunks).where(policy_chunks.c.doc_id == doc_id))
            conn.execute(delete(policy_documents).where(policy_documents.c.doc_id == doc_id))

    def indexed_chunks(self, doc_ids: Iterable[str] | None = None) -> dict[str, list[IndexedChunk]]:
        """Chunks as the index stores them, per document (all documents when None)."""
        query = (
            select(policy_chunks, policy_documents.c.title, policy_documents.c.allowed_groups)
            .join(policy_documents, policy_documents.c.doc_id == policy_chunks.c.doc_id)
            .order_by(policy_chunks.c.doc_id, policy_chunks.c.ordinal)
        )
        if doc_ids is not None:
            query = query.where(policy_chunks.c.doc_id.in_(sorted(set(doc_ids))))
        out: dict[str, list[IndexedChunk]] = {}
        with self._db.engine.connect() as conn:
            for r in conn.execute(query):
                out.setdefault(str(r.doc_id), []).append(
                    IndexedChunk(
                        chunk_id=str(r.chunk_id),
                        doc_id=str(r.doc_id),
                        title=str(r.title),
                        section=str(r.section),
                        text=str(r.text),
                        groups=split_groups(str(r.allowed_groups)),
                        flags=tuple(f for f in str(r.flags).split(",") if f),
                    )
                )
        return out

    def chunks_by_id(self, chunk_ids: Iterable[str]) -> dict[str, IndexedChunk]:
        """Chunks by id (callers check readability before showing any of them)."""
        ids = sorted(set(chunk_ids))
        if not ids:
            return {}
        with self._db.engine.connect() as conn:
            doc_ids = {
                str(r.doc_id)
                for r in conn.execute(
                    select(policy_chunks.c.doc_id).where(policy_chunks.c.chunk_id.in_(ids))
                )
            }
        return {
            c.chunk_id: c
            for cs in self.indexed_chunks(doc_ids).values()
            for c in cs
            if c.chunk_id in ids
        }

    def fingerprint(self) -> str:
        """A hash of every document's id, content and groups: equal means the index is current."""
        digest = hashlib.sha256()
        for doc_id, content_hash in sorted(self.document_hashes().items()):
            digest.update(f"{doc_id}\x00{content_hash}\n".encode())
        return digest.hexdigest()

    # -- findings ---------------------------------------------------------------------------
    def record_finding(
        self,
        doc_id: str,
        chunk_id: str,
        owner: str,
        kinds: Sequence[str],
        excerpt: str,
        content_hash: str,
    ) -> bool:
        """Record a finding once per chunk content; True when it is new."""
        try:
            with self._db.engine.begin() as conn:
                conn.execute(
                    insert(policy_findings).values(
                        doc_id=doc_id,
                        chunk_id=chunk_id,
                        owner=owner,
                        kinds=",".join(sorted(kinds)),
                        excerpt=excerpt,
                        content_hash=content_hash,
                        status="open",
                        created_at=utc_iso(self._clock.now()),
                    )
                )
        except SAIntegrityError:
            return False
        return True

    def findings(self, reading_groups: frozenset[str], owner: str | None = None) -> list[Finding]:
        """Findings on documents the caller may read (optionally one owner's)."""
        query = select(policy_findings).order_by(policy_findings.c.id)
        if owner:
            query = query.where(policy_findings.c.owner == owner)
        with self._db.engine.connect() as conn:
            rows = [r._mapping for r in conn.execute(query)]
        readable = self.readable_doc_ids(reading_groups, {str(r["doc_id"]) for r in rows})
        return [
            Finding(
                int(r["id"]),
                str(r["doc_id"]),
                str(r["chunk_id"]),
                str(r["owner"]),
                tuple(str(r["kinds"]).split(",")),
                str(r["excerpt"]),
                str(r["status"]),
                str(r["created_at"]),
            )
            for r in rows
            if str(r["doc_id"]) in readable
        ]

    # -- answers ----------------------------------------------------------------------------
    def save_answer(self, record: AnswerRecord) -> None:
        """Store an answer as given."""
        with self._db.engine.begin() as conn:
            conn.execute(
                insert(policy_answers).values(
                    id=record.id,
                    asked_by=record.asked_by,
                    question=record.question,
                    question_key=record.question_key,
                    answer=record.answer,
                    citations=json.dumps(record.citations, sort_keys=True),
                    abstained=record.abstained,
                    flags=",".join(record.flags),
                    created_at=record.created_at,
                )
            )

    def resolve_answer(self, ref: str, asked_by: str) -> str:
        """The full id of the one answer ``asked_by`` got whose id starts with ``ref``
        (``core.ids`` rules: 8+ characters, ambiguous prefixes refused with candidates)."""
        return resolve_prefix(
            ref,
            sql_prefix_lookup(
                self._db.engine.connect,
                policy_answers.c.id,
                policy_answers.c.asked_by == asked_by,
            ),
            what="answer",
            hint="use the answer_id `ask` printed",
        )

    def get_answer(self, answer_id: str) -> AnswerRecord | None:
        """One stored answer, or None."""
        with self._db.engine.connect() as conn:
            row = conn.execute(
                select(policy_answers).where(policy_answers.c.id == answer_id)
            ).first()
        if row is None:
            return None
        m = row._mapping
        return AnswerRecord(
            id=str(m["id"]),
            asked_by=str(m["asked_by"]),
            question=str(m["question"]),
            question_key=str(m["question_key"]),
            answer=str(m["answer"]),
            citations=json.loads(str(m["citations"])),
            abstained=bool(m["abstained"]),
            flags=tuple(f for f in str(m["flags"]).split(",") if f),
            created_at=str(m["created_at"]),
        )


def _to_doc(m: Any) -> StoredDocument:
    return StoredDocument(
        doc_id=str(m["doc_id"]),
        title=str(m["title"]),
        owner=str(m["owner"]),
        classification=str(m["classification"]),
        allowed_groups=split_groups(str(m["allowed_groups"])),
        effective_date=m["effective_date"],
        source=str(m["source"]),
        pages=int(m["pages"]),
        content_hash=str(m["content_hash"]),
    )
