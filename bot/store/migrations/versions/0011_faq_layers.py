"""the two layers of an entry (source and staff overrides), upstream review, harvest runs and lease

Existing entries are carried over: the content of an entry's last import becomes its source
layer, and every field that differs from it now (a staff edit since) an override; an entry
never imported (made by staff) has every field as an override.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SOURCE_FIELDS = (
    "question",
    "answer",
    "alt_questions",
    "agency",
    "category",
    "keywords",
    "source_url",
    "sources",
    "post_date",
    "revise_date",
)


def upgrade() -> None:
    op.create_table(
        "faq_source",
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("harvested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["faq_id"], ["faq.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("faq_id"),
    )
    op.create_index("ix_faq_source_origin", "faq_source", ["origin"])
    op.create_table(
        "faq_override",
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["faq_id"], ["faq.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("faq_id", "field"),
    )
    op.create_table(
        "faq_review",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("faq_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.JSON(), nullable=False),
        sa.Column("old_source", sa.JSON(), nullable=False),
        sa.Column("new_source", sa.JSON(), nullable=False),
        sa.Column("ours", sa.JSON(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["faq_id"], ["faq.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_faq_review_faq_id", "faq_review", ["faq_id"])
    op.create_index("ix_faq_review_status", "faq_review", ["status"])
    op.create_table(
        "harvest_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_harvest_run_status", "harvest_run", ["status"])
    op.create_index("ix_harvest_run_started_at", "harvest_run", ["started_at"])
    op.create_table(
        "harvest_lease",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    _carry_over()


def _carry_over() -> None:
    """Source layer and overrides for the entries already there, from their history."""
    bind = op.get_bind()
    faq = sa.table(
        "faq",
        sa.column("id", sa.String()),
        *(
            sa.column(f, sa.JSON() if f in {"alt_questions", "keywords", "sources"} else sa.String())
            for f in SOURCE_FIELDS
        ),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    revision_t = sa.table(
        "faq_revision",
        sa.column("id", sa.Integer()),
        sa.column("faq_id", sa.String()),
        sa.column("revision", sa.Integer()),
        sa.column("action", sa.String()),
        sa.column("actor", sa.String()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("after", sa.JSON()),
    )
    imported: dict[str, dict[str, Any]] = {}
    for faq_id, after in bind.execute(
        sa.select(revision_t.c.faq_id, revision_t.c.after)
        .where(revision_t.c.action == "import", revision_t.c.after.is_not(None))
        .order_by(revision_t.c.revision, revision_t.c.id)
    ):
        imported[faq_id] = after  # the last import wins
    now = datetime.now(UTC)
    sources: list[dict[str, Any]] = []
    overrides: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(faq)).mappings():
        current = {f: _json(row[f]) for f in SOURCE_FIELDS}
        source = imported.get(row["id"])
        if source is not None:
            content = {f: source.get(f, current[f]) for f in SOURCE_FIELDS}
            sources.append({"faq_id": row["id"], "content": content, "origin": "file", "harvested_at": now})
        for field in SOURCE_FIELDS:
            if source is None or content[field] != current[field]:
                overrides.append(
                    {
                        "faq_id": row["id"],
                        "field": field,
                        "value": current[field],
                        "actor": "migration",
                        "at": now,
                    }
                )
    source_t = sa.table(
        "faq_source",
        sa.column("faq_id", sa.String()),
        sa.column("content", sa.JSON()),
        sa.column("origin", sa.String()),
        sa.column("harvested_at", sa.DateTime(timezone=True)),
    )
    override_t = sa.table(
        "faq_override",
        sa.column("faq_id", sa.String()),
        sa.column("field", sa.String()),
        sa.column("value", sa.JSON()),
        sa.column("actor", sa.String()),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    if sources:
        op.bulk_insert(source_t, sources)
    if overrides:
        op.bulk_insert(override_t, overrides)


def _json(value: Any) -> Any:
    """A column's value as ``FaqRecord.content()`` has it (dates as ISO text, lists as lists)."""
    if value is None or isinstance(value, list | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def downgrade() -> None:
    op.drop_table("harvest_lease")
    op.drop_index("ix_harvest_run_started_at", table_name="harvest_run")
    op.drop_index("ix_harvest_run_status", table_name="harvest_run")
    op.drop_table("harvest_run")
    op.drop_index("ix_faq_review_status", table_name="faq_review")
    op.drop_index("ix_faq_review_faq_id", table_name="faq_review")
    op.drop_table("faq_review")
    op.drop_table("faq_override")
    op.drop_index("ix_faq_source_origin", table_name="faq_source")
    op.drop_table("faq_source")
