"""Credit: the credit officers' referral queue.

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_referrals",
        sa.Column("referral_id", sa.String(36), primary_key=True),
        sa.Column("decision_id", sa.String(36), nullable=False, unique=True),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("customer_token", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("model_version", sa.Integer, nullable=False),
        sa.Column("pd", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("officer", sa.String(64), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("decided_at", sa.String(27), nullable=True),
        sa.Column("ledger_seq", sa.Integer, nullable=True),
    )
    op.create_index("ix_credit_referrals_status", "credit_referrals", ["status"])


def downgrade() -> None:
    op.drop_index("ix_credit_referrals_status", "credit_referrals")
    op.drop_table("credit_referrals")
