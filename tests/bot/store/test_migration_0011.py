"""Migration 0011 (the two layers): existing entries are carried over from their history —
the last import becomes the source layer, later staff edits overrides — exactly as the code
keeps them for new entries; it goes down and up again cleanly."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect, select

from bot.store import Database
from bot.store.db import _alembic_config, current_revision
from bot.store.faqs import FaqStore, row_to_record
from bot.store.kb_import import import_rows
from bot.store.models import FaqOverrideRow, FaqSourceRow
from knowledge.importers import Parsed
from tests.factories import faq


def _layers(database: Database) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    with database.session() as session:
        sources = {row.faq_id: row.content for row in session.scalars(select(FaqSourceRow))}
        overrides = {(row.faq_id, row.field): row.value for row in session.scalars(select(FaqOverrideRow))}
    return sources, overrides


def test_0011_carries_existing_entries_over_and_goes_down_and_up(database: Database) -> None:
    head = current_revision(database.engine)
    agency = "高雄市政府環境保護局"  # canonical, as every entry was before 0013 (which came after 0011)
    with database.session() as session:
        import_rows(
            session,
            [Parsed("1", faq("A", agency=agency)), Parsed("2", faq("B", question="路燈壞了", agency=agency))],
            actor="t",
        )
        store = FaqStore(session)
        edited = row_to_record(store.get("A")).model_copy(
            update={"answer": "同仁改過的回答。", "keywords": ["沙發"]}
        )
        store.replace(edited, actor="curator")
        store.create(faq("C", question="同仁自己寫的題目", agency=agency), actor="curator")
    made_by_code = _layers(database)
    assert made_by_code[1][("A", "answer")] == "同仁改過的回答。"

    command.downgrade(_alembic_config(database.engine), "0010")
    assert "faq_source" not in inspect(database.engine).get_table_names()
    database.migrate()
    assert current_revision(database.engine) == head
    assert _layers(database) == made_by_code
