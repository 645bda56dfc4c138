"""Monitoring: per-day results per model version, and raised alerts.

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_days",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("computed_at", sa.String(27), nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.UniqueConstraint("model_name", "version", "day", name="uq_monitoring_days_model_day"),
    )
    op.create_table(
        "monitoring_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("metric", sa.String(128), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("raised_at", sa.String(27), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger, nullable=False),
        sa.Column("delivery", sa.String(64), nullable=False),
        sa.UniqueConstraint(
            "model_name", "version", "day", "rule", name="uq_monitoring_alerts_rule_day"
        ),
    )


def downgrade() -> None:
    op.drop_table("monitoring_alerts")
    op.drop_table("monitoring_days")
