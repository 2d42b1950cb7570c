"""initial knowledge base schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 07:47:44.363810
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("alt_questions", sa.JSON(), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("post_date", sa.Date(), nullable=True),
        sa.Column("revise_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("question_key", sa.String(length=500), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faq", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_faq_agency"), ["agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_question_key"), ["question_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_faq_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "kb_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "faq_revision",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["faq_id"], ["faq.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("faq_revision", schema=None) as batch_op:
        batch_op.create_index("ix_faq_revision_faq_id_revision", ["faq_id", "revision"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("faq_revision", schema=None) as batch_op:
        batch_op.drop_index("ix_faq_revision_faq_id_revision")

    op.drop_table("faq_revision")
    op.drop_table("kb_version")
    with op.batch_alter_table("faq", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_updated_at"))
        batch_op.drop_index(batch_op.f("ix_faq_status"))
        batch_op.drop_index(batch_op.f("ix_faq_question_key"))
        batch_op.drop_index(batch_op.f("ix_faq_category"))
        batch_op.drop_index(batch_op.f("ix_faq_agency"))

    op.drop_table("faq")
