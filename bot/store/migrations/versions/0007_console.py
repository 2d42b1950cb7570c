"""console knowledge-base curation: drafts of published entries, staff synonyms, duplicate
dismissals, import jobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_draft",
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("base_revision", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["faq_id"], ["faq.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("faq_id"),
    )
    op.create_table(
        "synonym_rule",
        sa.Column("variant", sa.String(length=100), nullable=False),
        sa.Column("canonical", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("variant"),
    )
    op.create_table(
        "synonym_version",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "duplicate_dismissal",
        sa.Column("first_id", sa.String(length=64), nullable=False),
        sa.Column("second_id", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("first_id", "second_id"),
    )
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("fmt", sa.String(length=20), nullable=False),
        sa.Column("merge_duplicates", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_job_status", "import_job", ["status"])
    op.create_index("ix_import_job_created_at", "import_job", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_import_job_created_at", table_name="import_job")
    op.drop_index("ix_import_job_status", table_name="import_job")
    op.drop_table("import_job")
    op.drop_table("duplicate_dismissal")
    op.drop_table("synonym_version")
    op.drop_table("synonym_rule")
    op.drop_table("faq_draft")
