"""handoff: notification outbox, live takeover, agent presence, web-widget outbox

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.Column("case_number", sa.String(length=20), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_via", sa.String(length=10), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    op.create_index("ix_notification_conversation_id_id", "notification", ["conversation_id", "id"])
    op.create_index(
        "ix_notification_pending", "notification", ["delivered_at", "failed_at", "next_attempt_at"]
    )
    op.create_index("ix_notification_case_number", "notification", ["case_number"])

    op.create_table(
        "handoff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("open_key", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("case_number", sa.String(length=20), nullable=False),
        sa.Column("ended_by", sa.String(length=20), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_handoff_conversation_id", "handoff", ["conversation_id"])
    op.create_index("ix_handoff_state_requested_at", "handoff", ["state", "requested_at"])

    op.create_table(
        "agent_presence",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_index("ix_agent_presence_last_seen_at", "agent_presence", ["last_seen_at"])

    op.create_table(
        "web_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_outbox_address_id", "web_outbox", ["address", "id"])
    op.create_index("ix_web_outbox_created_at", "web_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_web_outbox_created_at", table_name="web_outbox")
    op.drop_index("ix_web_outbox_address_id", table_name="web_outbox")
    op.drop_table("web_outbox")
    op.drop_index("ix_agent_presence_last_seen_at", table_name="agent_presence")
    op.drop_table("agent_presence")
    op.drop_index("ix_handoff_state_requested_at", table_name="handoff")
    op.drop_index("ix_handoff_conversation_id", table_name="handoff")
    op.drop_table("handoff")
    op.drop_index("ix_notification_case_number", table_name="notification")
    op.drop_index("ix_notification_pending", table_name="notification")
    op.drop_index("ix_notification_conversation_id_id", table_name="notification")
    op.drop_table("notification")
