"""Findable decisions: a lookup index over the ledger's decisions, the decision behind each
fraud alert, and triage runs (idempotent per day and model version, linked when superseded).

The index is derived from the ledger and filled on first read, so no back-fill is needed.

Revision ID: 0014
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_index",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("ts", sa.String(27), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=True),
        sa.Column("customer_token", sa.String(64), nullable=True),
        sa.Column("alert_id", sa.String(36), nullable=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(32), nullable=True),
    )
    for col in ("decision_id", "ts", "transaction_id", "customer_token", "alert_id"):
        op.create_index(f"ix_decision_index_{col}", "decision_index", [col])
    op.create_index("ix_decision_index_model", "decision_index", ["model_name", "model_version"])
    op.create_table(
        "decision_index_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("fraud_alerts") as batch:
        batch.add_column(sa.Column("decision_id", sa.String(36), nullable=True))
        batch.create_index("ix_fraud_alerts_decision_id", ["decision_id"])
    op.create_table(
        "fraud_triage_runs",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("scored", sa.Integer, nullable=False),
        sa.Column("alerts", sa.Integer, nullable=False),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.UniqueConstraint(
            "day", "model_name", "model_version", name="uq_fraud_triage_runs_model"
        ),
    )
    op.create_index("ix_fraud_triage_runs_day", "fraud_triage_runs", ["day"])


def downgrade() -> None:
    op.drop_index("ix_fraud_triage_runs_day", "fraud_triage_runs")
    op.drop_table("fraud_triage_runs")
    with op.batch_alter_table("fraud_alerts") as batch:
        batch.drop_index("ix_fraud_alerts_decision_id")
        batch.drop_column("decision_id")
    op.drop_table("decision_index_head")
    op.drop_index("ix_decision_index_model", "decision_index")
    for col in ("decision_id", "ts", "transaction_id", "customer_token", "alert_id"):
        op.drop_index(f"ix_decision_index_{col}", "decision_index")
    op.drop_table("decision_index")
