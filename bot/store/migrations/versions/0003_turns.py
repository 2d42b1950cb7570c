"""turns

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:04:32.627556
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_redacted", sa.Text(), nullable=False),
        sa.Column("payload", sa.String(length=200), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=False),
        sa.Column("intent_confidence", sa.Float(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("degraded", sa.Boolean(), nullable=False),
        sa.Column("feedback", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("turn", schema=None) as batch_op:
        batch_op.create_index("ix_turn_at_channel", ["at", "channel"], unique=False)
        batch_op.create_index("ix_turn_conversation_at", ["conversation_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_turn_decision"), ["decision"], unique=False)
        batch_op.create_index(batch_op.f("ix_turn_faq_id"), ["faq_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_turn_sender"), ["sender"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("turn", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_turn_sender"))
        batch_op.drop_index(batch_op.f("ix_turn_faq_id"))
        batch_op.drop_index(batch_op.f("ix_turn_decision"))
        batch_op.drop_index("ix_turn_conversation_at")
        batch_op.drop_index("ix_turn_at_channel")

    op.drop_table("turn")
