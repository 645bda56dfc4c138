"""Governance's tables: model versions, their transitions, validation runs, champion history
and the pinned gate policies.

bankml's own records are the authority on a model version's lifecycle; MLflow tags and the
``champion`` alias only mirror them (open-source MLflow has no approvals or alias history).
Every transition and champion change carries the sequence and hash of its ledger entry, so
the governed state can be checked against the ledger (``governance.provenance``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from bankml.core.tables import metadata

__all__ = [
    "champion_history",
    "decision_index",
    "decision_index_head",
    "gate_policies",
    "model_transitions",
    "model_validations",
    "model_versions",
]

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
    # The registry run's metrics as JSON, copied at registration so listing models needs only
    # this database (no MLflow round trip); NULL on rows from before migration 0013.
    Column("metrics", Text, nullable=True),
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
    Column("ledger_hash", String(64), nullable=True),  # NULL only on rows from before 0005
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
    Column("ledger_seq", BigInteger, nullable=True),  # the promotion/rollback entry
    Column("ledger_hash", String(64), nullable=True),
    Index("ix_champion_history_model", "model_name"),
)

# The official gate policy of each model, pinned by an admin: its exact bytes and hash, and
# the ledger entry that recorded the pin. The newest row per model is the one in force; a
# validation counts for approval only if it ran against it, whatever the policy directory
# holds at approval time.
gate_policies = Table(
    "gate_policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("installed_by", String(64), nullable=False),
    Column("installed_at", String(27), nullable=False),
    Column("ledger_seq", BigInteger, nullable=False),
    Column("ledger_hash", String(64), nullable=False),
)


# A lookup index over the ledger's decisions (migration 0014): one row per decision entry,
# with the columns auditors filter on. Derived from the ledger (which stays the authority)
# and caught up on read from ``decision_index_head.seq``; never hashed, safe to rebuild.
decision_index = Table(
    "decision_index",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("decision_id", String(64), nullable=False, index=True),
    Column("ts", String(27), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("transaction_id", String(64), nullable=True, index=True),
    Column("customer_token", String(64), nullable=True, index=True),
    Column("alert_id", String(36), nullable=True, index=True),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("decision", String(32), nullable=True),
    Index("ix_decision_index_model", "model_name", "model_version"),
)

decision_index_head = Table(
    "decision_index_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),  # ledger entries up to here are indexed
)
