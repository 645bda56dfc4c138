"""Fraud triage: alerts in the review queue, analysts' dispositions, and the labels they make.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fraud_alerts",
        sa.Column("alert_id", sa.String(36), primary_key=True),
        sa.Column("transaction_id", sa.BigInteger, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("card_token", sa.String(64), nullable=True),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.UniqueConstraint("day", "transaction_id", name="uq_fraud_alerts_day_txn"),
    )
    op.create_index("ix_fraud_alerts_day", "fraud_alerts", ["day"])
    op.create_table(
        "fraud_dispositions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id",
            sa.String(36),
            sa.ForeignKey("fraud_alerts.alert_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("analyst", sa.String(64), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
    )
    op.create_index("ix_fraud_dispositions_alert_id", "fraud_dispositions", ["alert_id"])
    op.create_table(
        "fraud_labels",
        sa.Column("transaction_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("is_fraud", sa.Boolean, nullable=False),
        sa.Column("known_at", sa.String(27), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fraud_labels")
    op.drop_index("ix_fraud_dispositions_alert_id", "fraud_dispositions")
    op.drop_table("fraud_dispositions")
    op.drop_index("ix_fraud_alerts_day", "fraud_alerts")
    op.drop_table("fraud_alerts")
