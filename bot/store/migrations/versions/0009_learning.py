"""learning from failures: resolutions of failed-question clusters

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failure_resolution",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("questions", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_failure_resolution_at", "failure_resolution", ["at"])
    op.create_table(
        "failure_resolution_key",
        sa.Column("resolution_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["resolution_id"], ["failure_resolution.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("resolution_id", "key"),
    )
    op.create_index("ix_failure_resolution_key_key", "failure_resolution_key", ["key"])


def downgrade() -> None:
    op.drop_index("ix_failure_resolution_key_key", table_name="failure_resolution_key")
    op.drop_table("failure_resolution_key")
    op.drop_index("ix_failure_resolution_at", table_name="failure_resolution")
    op.drop_table("failure_resolution")
