"""Governed state provable from the ledger; pinned gate policies.

Every model transition and champion change carries the sequence *and hash* of its ledger
entry; admins pin each model's official gate policy (bytes, hash, ledger entry). Existing rows
are back-filled from the ledger, so a home made by an earlier release keeps its history and
still proves it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_transitions") as batch:
        batch.add_column(sa.Column("ledger_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("champion_history") as batch:
        batch.add_column(sa.Column("ledger_seq", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("ledger_hash", sa.String(64), nullable=True))
    op.create_table(
        "gate_policies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("installed_by", sa.String(64), nullable=False),
        sa.Column("installed_at", sa.String(27), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger, nullable=False),
        sa.Column("ledger_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_gate_policies_model_name", "gate_policies", ["model_name"])
    # Back-fill: a transition's entry is the one at its recorded sequence; a champion change's
    # entry is the promotion/rollback transition of the same version at the same instant.
    op.execute(
        "UPDATE model_transitions SET ledger_hash = "
        "(SELECT e.hash FROM ledger_entries e WHERE e.seq = model_transitions.ledger_seq)"
    )
    op.execute(
        "UPDATE champion_history SET ledger_seq = (SELECT MIN(t.ledger_seq) "
        "FROM model_transitions t WHERE t.model_name = champion_history.model_name "
        "AND t.version = champion_history.version AND t.to_state = 'champion' "
        "AND t.at = champion_history.at)"
    )
    op.execute(
        "UPDATE champion_history SET ledger_hash = "
        "(SELECT e.hash FROM ledger_entries e WHERE e.seq = champion_history.ledger_seq)"
    )


def downgrade() -> None:
    op.drop_index("ix_gate_policies_model_name", "gate_policies")
    op.drop_table("gate_policies")
    with op.batch_alter_table("champion_history") as batch:
        batch.drop_column("ledger_hash")
        batch.drop_column("ledger_seq")
    with op.batch_alter_table("model_transitions") as batch:
        batch.drop_column("ledger_hash")
