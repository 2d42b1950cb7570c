"""learning from citizens: confirmed pairings of phrasings and FAQs, and decisions on them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_pairing",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("turn_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("phrasing", sa.String(length=500), nullable=False),
        sa.Column("phrasing_key", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("turn_id"),
    )
    op.create_index("ix_learned_pairing_at", "learned_pairing", ["at"])
    op.create_index("ix_learned_pairing_faq_id", "learned_pairing", ["faq_id"])
    op.create_index("ix_learned_pairing_phrasing_key", "learned_pairing", ["phrasing_key"])
    op.create_index("ix_learned_pairing_sender_at", "learned_pairing", ["sender", "at"])
    op.create_table(
        "learned_phrasing",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("phrasing_key", sa.String(length=500), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("phrasing", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("citizens", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_learned_phrasing_faq_id", "learned_phrasing", ["faq_id"])
    op.create_index("ix_learned_phrasing_status", "learned_phrasing", ["status"])
    op.create_index("ix_learned_phrasing_at", "learned_phrasing", ["at"])


def downgrade() -> None:
    op.drop_index("ix_learned_phrasing_at", table_name="learned_phrasing")
    op.drop_index("ix_learned_phrasing_status", table_name="learned_phrasing")
    op.drop_index("ix_learned_phrasing_faq_id", table_name="learned_phrasing")
    op.drop_table("learned_phrasing")
    op.drop_index("ix_learned_pairing_sender_at", table_name="learned_pairing")
    op.drop_index("ix_learned_pairing_phrasing_key", table_name="learned_pairing")
    op.drop_index("ix_learned_pairing_faq_id", table_name="learned_pairing")
    op.drop_index("ix_learned_pairing_at", table_name="learned_pairing")
    op.drop_table("learned_pairing")
