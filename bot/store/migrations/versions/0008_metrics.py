"""metrics for the supervisor dashboard: per-turn figures derived from the turn log, and per day

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_metric_turn_day_sender": ["day", "sender", "channel", "category", "agency"],
    "ix_metric_turn_month_sender": ["month", "sender", "day", "channel", "category", "agency"],
    "ix_metric_turn_sender": ["sender", "day", "channel", "category", "agency"],
    "ix_metric_turn_channel_sender": ["channel", "sender", "day", "category", "agency"],
    "ix_metric_turn_category_sender": ["category", "sender", "day", "channel", "agency"],
    "ix_metric_turn_agency_sender": ["agency", "sender", "day", "channel", "category"],
    "ix_metric_turn_latency": ["latency_ms", "day", "channel", "category", "agency"],
    "ix_metric_turn_conversation_at": ["conversation_id", "at"],
    "ix_metric_turn_text_key": ["text_key", "day"],
}


def upgrade() -> None:
    op.create_table(
        "metric_turn",
        sa.Column("turn_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("successful", sa.Integer(), nullable=False),
        sa.Column("handoff", sa.Integer(), nullable=False),
        sa.Column("feedback", sa.String(length=8), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("degraded", sa.Integer(), nullable=False),
        sa.Column("text_key", sa.String(length=200), nullable=False),
        sa.Column("text_sample", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("turn_id"),
    )
    for name, columns in INDEXES.items():
        op.create_index(name, "metric_turn", columns)
    op.create_table(
        "metric_day",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "turns",
                "questions",
                "answered",
                "successful",
                "clarified",
                "abstained",
                "feedback_good",
                "feedback_bad",
                "timed",
            )
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("day", "channel", "category", "agency"),
    )
    op.create_table(
        "metric_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_turn_id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(
        sa.table("metric_state", sa.column("name"), sa.column("last_turn_id")),
        [{"name": "turns", "last_turn_id": 0}],
    )


def downgrade() -> None:
    op.drop_table("metric_state")
    op.drop_table("metric_day")
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="metric_turn")
    op.drop_table("metric_turn")
