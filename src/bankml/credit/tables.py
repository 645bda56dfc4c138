"""Credit's own tables, registered into the one app ``MetaData`` (migration ``0009``)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text

from bankml.core.tables import metadata

__all__ = ["credit_referrals"]

# The credit officers' referral queue: one row per referred decision. No PII: the customer
# is a token; the reasons are catalogue codes and texts.
credit_referrals = Table(
    "credit_referrals",
    metadata,
    Column("referral_id", String(36), primary_key=True),
    Column("decision_id", String(36), nullable=False, unique=True),
    Column("application_id", String(64), nullable=False),
    Column("customer_token", String(64), nullable=False),
    Column("model_name", String(64), nullable=False),
    Column("model_version", Integer, nullable=False),
    Column("pd", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of reason dicts
    Column("status", String(16), nullable=False, index=True),  # open | decided
    Column("outcome", String(16), nullable=True),  # approve | decline
    Column("officer", String(64), nullable=True),
    Column("note", Text, nullable=True),
    Column("created_at", String(27), nullable=False),
    Column("decided_at", String(27), nullable=True),
    Column("ledger_seq", Integer, nullable=True),
)
