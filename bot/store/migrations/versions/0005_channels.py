"""channels: conversation addresses, handled channel events, long button payloads

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_conversation_last_seen_at", "conversation", ["last_seen_at"])
    op.create_table(
        "channel_event",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("response", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("channel", "event_id"),
    )
    op.create_index("ix_channel_event_received_at", "channel_event", ["received_at"])
    op.create_index("ix_channel_event_handled_at", "channel_event", ["handled_at"])
    op.create_table(
        "button_payload",
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index("ix_button_payload_created_at", "button_payload", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_button_payload_created_at", table_name="button_payload")
    op.drop_table("button_payload")
    op.drop_index("ix_channel_event_handled_at", table_name="channel_event")
    op.drop_index("ix_channel_event_received_at", table_name="channel_event")
    op.drop_table("channel_event")
    op.drop_index("ix_conversation_last_seen_at", table_name="conversation")
    op.drop_table("conversation")
