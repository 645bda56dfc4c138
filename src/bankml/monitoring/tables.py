"""Monitoring's own tables (migration 0008), registered into bankml's one ``MetaData``.

One row per (kind, version, day) holds the day's flat metrics (what alert rules read) and
the detail behind them as JSON; a rerun of a day replaces its row. Alerts keep the ledger
sequence of their ``monitoring.alert`` entry and how the webhook delivery went.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, Text, UniqueConstraint

from bankml.core.tables import metadata

__all__ = ["monitoring_alerts", "monitoring_days"]

monitoring_days = Table(
    "monitoring_days",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("day", String(10), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("computed_at", String(27), nullable=False),
    Column("metrics", Text, nullable=False),  # flat {"drift.share_drifted": 0.2, ...}
    Column("detail", Text, nullable=False),  # drift per column, quality, performance
    UniqueConstraint("model_name", "version", "day", name="uq_monitoring_days_model_day"),
)

monitoring_alerts = Table(
    "monitoring_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("day", String(10), nullable=False),
    Column("rule", String(128), nullable=False),
    Column("metric", String(128), nullable=False),
    Column("value", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("raised_at", String(27), nullable=False),
    Column("ledger_seq", BigInteger, nullable=False),
    Column("delivery", String(64), nullable=False),
    UniqueConstraint("model_name", "version", "day", "rule", name="uq_monitoring_alerts_rule_day"),
)
