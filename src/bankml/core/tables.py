"""The relational schema bankml keeps in its app database (SQLite or PostgreSQL).

Alembic migrations in ``migrations/versions`` create exactly these tables; a test compares
the two so they cannot drift apart. Timestamps are stored as fixed-width ISO-8601 UTC text
so that the ledger hashes the same bytes on every database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "api_keys",
    "champion_history",
    "fraud_alerts",
    "fraud_dispositions",
    "fraud_labels",
    "ledger_entries",
    "ledger_head",
    "metadata",
    "model_transitions",
    "model_validations",
    "model_versions",
    "policy_answers",
    "policy_chunks",
    "policy_corrections",
    "policy_documents",
    "policy_findings",
    "policy_review_items",
    "users",
]

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("groups", Text, nullable=False, default=""),  # comma-separated, sorted
    Column("created_at", String(27), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(27), nullable=False),
    Column("revoked_at", String(27), nullable=True),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(27), nullable=False, index=True),
    Column("kind", String(64), nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("subject", String(128), nullable=False, index=True),
    Column("payload", Text, nullable=False),  # canonical JSON, hashed byte for byte
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# One row: the last sequence number and hash. Written in the same transaction as each append,
# so truncating the tail of the chain is detected too.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# --- policy assistant (migration 0002) -------------------------------------------------------
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

# --- fraud triage (migration 0003) -----------------------------------------------------------
fraud_alerts = Table(
    "fraud_alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("transaction_id", BigInteger, nullable=False),
    Column("day", String(10), nullable=False, index=True),
    Column("rank", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("card_token", String(64), nullable=True),  # keyed token, never the PAN
    Column("amount", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of reasons in words
    Column("status", String(16), nullable=False),  # open | needs_info | closed
    Column("created_at", String(27), nullable=False),
    UniqueConstraint("day", "transaction_id", name="uq_fraud_alerts_day_txn"),
)

fraud_dispositions = Table(
    "fraud_dispositions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "alert_id",
        String(36),
        ForeignKey("fraud_alerts.alert_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("outcome", String(16), nullable=False),  # fraud | legitimate | needs_info
    Column("analyst", String(64), nullable=False),
    Column("note", Text, nullable=False),  # redacted
    Column("created_at", String(27), nullable=False),
)

# Labels that dispositions (or chargeback feeds) produce, with the time they became known:
# training uses a label only after known_at (point-in-time correct).
fraud_labels = Table(
    "fraud_labels",
    metadata,
    Column("transaction_id", BigInteger, primary_key=True, autoincrement=False),
    Column("is_fraud", Boolean, nullable=False),
    Column("known_at", String(27), nullable=False),
    Column("source", String(64), nullable=False),
)

# --- governance (migration 0004) ---------------------------------------------------------------
# bankml's own records are the authority on a model version's lifecycle; MLflow tags and the
# `champion` alias only mirror them (open-source MLflow has no approvals or alias history).
model_versions = Table(
    "model_versions",
    metadata,
    Column("model_name", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("state", String(16), nullable=False),
    Column("trained_by", String(64), nullable=False),
    Column("submitted_by", String(64), nullable=True),
    Column("registered_at", String(27), nullable=False),
    Column("updated_at", String(27), nullable=False),
)

model_transitions = Table(
    "model_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("from_state", String(16), nullable=True),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("at", String(27), nullable=False),
    Column("ledger_seq", BigInteger, nullable=False),
    Index("ix_model_transitions_model", "model_name", "version"),
)

model_validations = Table(
    "model_validations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("ran_at", String(27), nullable=False),
    Column("ran_by", String(64), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("policy_sha256", String(64), nullable=False),
    Column("results", Text, nullable=False),  # JSON list of gate results
    Column("evidence", Text, nullable=False),  # JSON evidence the gates were judged on
    Index("ix_model_validations_model", "model_name", "version"),
)

champion_history = Table(
    "champion_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("previous_version", Integer, nullable=True),
    Column("action", String(16), nullable=False),  # promote | rollback
    Column("actor", String(64), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("at", String(27), nullable=False),
    Index("ix_champion_history_model", "model_name"),
)
