"""Fraud triage's tables: the alert queue, analysts' dispositions and the labels they make.

Registered into the one ``bankml.core.tables.metadata``; created by migration 0003.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bankml.core.tables import metadata

__all__ = [
    "fraud_alerts",
    "fraud_dispositions",
    "fraud_labels",
    "fraud_triage_runs",
]

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
    # The scoring decision that raised the alert (migration 0014; NULL on older rows).
    Column("decision_id", String(36), nullable=True, index=True),
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

# One row per triage of a day by one model version (migration 0014): re-running it is a
# no-op; a new champion's re-triage is a new run that ``supersedes`` the day's previous one.
fraud_triage_runs = Table(
    "fraud_triage_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("day", String(10), nullable=False, index=True),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("scored", Integer, nullable=False),
    Column("alerts", Integer, nullable=False),
    Column("supersedes", String(36), nullable=True),
    Column("created_at", String(27), nullable=False),
    UniqueConstraint("day", "model_name", "model_version", name="uq_fraud_triage_runs_model"),
)
