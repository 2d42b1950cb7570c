"""private cases: where a case's description comes from, and the status checks' lock-out

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_file") as batch:
        batch.add_column(sa.Column("origin", sa.String(length=16), server_default="citizen", nullable=False))
    # cases filed so far from a request for a person carry a conversation excerpt
    op.execute(
        "UPDATE case_file SET origin = 'conversation' WHERE id IN "
        "(SELECT case_id FROM case_event WHERE actor = 'handoff' AND from_status IS NULL)"
    )
    op.create_table(
        "status_check",
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_number"),
    )


def downgrade() -> None:
    op.drop_table("status_check")
    # both databases drop a column in place (SQLite since 3.35): a batch copy of case_file would
    # delete every case's history through the foreign key's ON DELETE CASCADE
    op.execute("ALTER TABLE case_file DROP COLUMN origin")
