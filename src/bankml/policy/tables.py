"""The policy assistant's tables (document store, findings, answers, review, corrections).

Registered into the one ``bankml.core.tables.metadata``; created by migration 0002.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bankml.core.tables import metadata

__all__ = [
    "policy_answers",
    "policy_chunks",
    "policy_corrections",
    "policy_documents",
    "policy_findings",
    "policy_review_items",
]

# The document store the search index is rebuilt from. Groups are stored comma-separated and
# sorted; an empty string means "readable by nobody" (fail closed).
policy_documents = Table(
    "policy_documents",
    metadata,
    Column("doc_id", String(128), primary_key=True),
    Column("title", Text, nullable=False),
    Column("owner", String(128), nullable=False, index=True),
    Column("classification", String(32), nullable=False),
    Column("allowed_groups", Text, nullable=False),
    Column("effective_date", String(32), nullable=True),
    Column("source", Text, nullable=False),
    Column("format", String(8), nullable=False),
    Column("pages", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("ingested_at", String(27), nullable=False),
)

policy_chunks = Table(
    "policy_chunks",
    metadata,
    Column("chunk_id", String(255), primary_key=True),
    Column(
        "doc_id",
        String(128),
        ForeignKey("policy_documents.doc_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("ordinal", Integer, nullable=False),
    Column("section", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("flags", Text, nullable=False),  # injection signal kinds, comma-separated
)

# Injection findings for document owners; one per chunk content (re-ingest does not repeat it).
policy_findings = Table(
    "policy_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(128), nullable=False, index=True),
    Column("chunk_id", String(255), nullable=False),
    Column("owner", String(128), nullable=False, index=True),
    Column("kinds", Text, nullable=False),
    Column("excerpt", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", String(27), nullable=False),
    UniqueConstraint("chunk_id", "content_hash", name="uq_policy_findings_chunk_content"),
)

# Every answer given (question redacted), so feedback and review can refer to it.
policy_answers = Table(
    "policy_answers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("asked_by", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("question_key", String(64), nullable=False, index=True),
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list
    Column("abstained", Boolean, nullable=False),
    Column("flags", Text, nullable=False),
    Column("created_at", String(27), nullable=False),
)

policy_review_items = Table(
    "policy_review_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", String(32), ForeignKey("policy_answers.id"), nullable=False, index=True),
    Column("reason", String(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("doc_ids", Text, nullable=False),  # documents a reviewer must be able to read
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", String(27), nullable=False),
    Column("resolved_by", String(64), nullable=True),
    Column("resolved_at", String(27), nullable=True),
    Column("resolution_note", Text, nullable=True),
)

# Reviewed answers shown for later identical (normalized) questions, with provenance.
policy_corrections = Table(
    "policy_corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question_key", String(64), nullable=False, index=True),
    Column("review_item_id", Integer, ForeignKey("policy_review_items.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # approved | corrected
    Column("answer", Text, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list
    Column("doc_ids", Text, nullable=False),
    Column("reviewed_by", String(64), nullable=False),
    Column("reviewed_at", String(27), nullable=False),
)
