"""Policy assistant: document store, chunks, injection findings, answers, review queue, corrections.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_documents",
        sa.Column("doc_id", sa.String(128), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("classification", sa.String(32), nullable=False),
        sa.Column("allowed_groups", sa.Text, nullable=False),
        sa.Column("effective_date", sa.String(32), nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.String(27), nullable=False),
    )
    op.create_index("ix_policy_documents_owner", "policy_documents", ["owner"])
    op.create_table(
        "policy_chunks",
        sa.Column("chunk_id", sa.String(255), primary_key=True),
        sa.Column(
            "doc_id",
            sa.String(128),
            sa.ForeignKey("policy_documents.doc_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("flags", sa.Text, nullable=False),
    )
    op.create_index("ix_policy_chunks_doc_id", "policy_chunks", ["doc_id"])
    op.create_table(
        "policy_findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("doc_id", sa.String(128), nullable=False),
        sa.Column("chunk_id", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("kinds", sa.Text, nullable=False),
        sa.Column("excerpt", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.UniqueConstraint("chunk_id", "content_hash", name="uq_policy_findings_chunk_content"),
    )
    op.create_index("ix_policy_findings_doc_id", "policy_findings", ["doc_id"])
    op.create_index("ix_policy_findings_owner", "policy_findings", ["owner"])
    op.create_table(
        "policy_answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("asked_by", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("question_key", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("citations", sa.Text, nullable=False),
        sa.Column("abstained", sa.Boolean, nullable=False),
        sa.Column("flags", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
    )
    op.create_index("ix_policy_answers_question_key", "policy_answers", ["question_key"])
    op.create_table(
        "policy_review_items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("answer_id", sa.String(32), sa.ForeignKey("policy_answers.id"), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("doc_ids", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(27), nullable=False),
        sa.Column("resolved_by", sa.String(64), nullable=True),
        sa.Column("resolved_at", sa.String(27), nullable=True),
        sa.Column("resolution_note", sa.Text, nullable=True),
    )
    op.create_index("ix_policy_review_items_answer_id", "policy_review_items", ["answer_id"])
    op.create_index("ix_policy_review_items_status", "policy_review_items", ["status"])
    op.create_table(
        "policy_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("question_key", sa.String(64), nullable=False),
        sa.Column(
            "review_item_id",
            sa.Integer,
            sa.ForeignKey("policy_review_items.id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("citations", sa.Text, nullable=False),
        sa.Column("doc_ids", sa.Text, nullable=False),
        sa.Column("reviewed_by", sa.String(64), nullable=False),
        sa.Column("reviewed_at", sa.String(27), nullable=False),
    )
    op.create_index("ix_policy_corrections_question_key", "policy_corrections", ["question_key"])


def downgrade() -> None:
    op.drop_index("ix_policy_corrections_question_key", "policy_corrections")
    op.drop_table("policy_corrections")
    op.drop_index("ix_policy_review_items_status", "policy_review_items")
    op.drop_index("ix_policy_review_items_answer_id", "policy_review_items")
    op.drop_table("policy_review_items")
    op.drop_index("ix_policy_answers_question_key", "policy_answers")
    op.drop_table("policy_answers")
    op.drop_index("ix_policy_findings_owner", "policy_findings")
    op.drop_index("ix_policy_findings_doc_id", "policy_findings")
    op.drop_table("policy_findings")
    op.drop_index("ix_policy_chunks_doc_id", "policy_chunks")
    op.drop_table("policy_chunks")
    op.drop_index("ix_policy_documents_owner", "policy_documents")
    op.drop_table("policy_documents")
