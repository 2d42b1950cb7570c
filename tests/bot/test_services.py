"""Imports from files go through the harvest's path with its guarantees (issue 22 item 4): in
every format the importers read, a re-import of a changed upstream file never undoes a staff
override, queues the conflict for review, applies or holds the other changes as
``harvest.upstream_changes`` says, and reports every row in exactly one count."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import import_file, setup_store
from bot.settings import Settings
from bot.store import Database
from bot.store.faqs import FaqStore, row_to_record
from bot.store.kb_import import ImportReport
from bot.store.models import FaqReviewRow
from knowledge.faq import FaqStatus
from tests.bot.upstream_files import FIRST, FORMATS, OURS, SECOND, Entry, write
from tests.conftest import app_settings


def _staff_rewrite_u1(database: Database) -> None:
    with database.session() as session:  # as the console's editor does
        store = FaqStore(session)
        record = row_to_record(store.get("U-1"))
        store.replace(record.model_copy(update={"answer": OURS}), actor="curator")


def _open_reviews(database: Database) -> list[tuple[str, str, list[str], list[str], bool]]:
    with database.session() as session:
        return [
            (r.faq_id, r.kind, list(r.fields), list(r.conflicts), r.held)
            for r in session.scalars(
                select(FaqReviewRow).where(FaqReviewRow.status == "open").order_by(FaqReviewRow.faq_id)
            )
        ]


def _answers(database: Database) -> dict[str, str]:
    with database.session() as session:
        store = FaqStore(session)
        return {e["id"]: store.get(e["id"]).answer for e in SECOND}


def _import(
    settings: Settings, database: Database, tmp_path: Path, fmt: str, entries: list[Entry]
) -> ImportReport:
    path = write(tmp_path, f"snapshot-{len(entries)}", fmt, entries)
    return import_file(settings, path, fmt, actor="importer", database=database)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_changed_file_keeps_the_override_queues_the_conflict_and_applies_the_rest(
    database_url: str, database: Database, tmp_path: Path, fmt: str
) -> None:
    settings = app_settings(database_url, tmp_path)
    first = _import(settings, database, tmp_path, fmt, FIRST)
    assert (first.imported, first.rows) == (3, 3)
    _staff_rewrite_u1(database)

    second = _import(settings, database, tmp_path, fmt, SECOND)

    counts = (second.imported, second.updated, second.unchanged, second.conflicts, second.held)
    assert counts == (1, 1, 1, 1, 0)
    assert (second.rows, second.rejected) == (4, [])
    assert "1 changed upstream where staff changed them (for review)" in second.summary()
    assert _answers(database) == {
        "U-1": OURS,  # staff's override survives
        "U-2": SECOND[1]["answer"],  # nobody touched it: the upstream change is applied
        "U-3": FIRST[2]["answer"],
        "U-4": SECOND[3]["answer"],
    }
    assert _open_reviews(database) == [("U-1", "upstream", ["answer"], ["answer"], False)]
    again = _import(settings, database, tmp_path, fmt, SECOND)  # the same file once more
    assert (again.unchanged, again.conflicts, again.updated, again.imported) == (4, 0, 0, 0)
    assert len(_open_reviews(database)) == 1  # the conflict is queued once, not again


@pytest.mark.parametrize("fmt", ["csv", "taipei-xml"])
def test_with_upstream_changes_held_for_review_nothing_citizens_see_changes(
    database_url: str, database: Database, tmp_path: Path, fmt: str
) -> None:
    settings = app_settings(
        database_url, tmp_path, harvest={"upstream_changes": "review", "new_entries": "draft"}
    )
    _import(settings, database, tmp_path, fmt, FIRST)
    _staff_rewrite_u1(database)

    second = _import(settings, database, tmp_path, fmt, SECOND)

    counts = (second.imported, second.updated, second.unchanged, second.conflicts, second.held)
    assert counts == (1, 0, 1, 0, 2)
    assert _answers(database) == {
        "U-1": OURS,
        "U-2": FIRST[1]["answer"],  # held: citizens still read the old answer
        "U-3": FIRST[2]["answer"],
        "U-4": SECOND[3]["answer"],
    }
    with database.session() as session:
        assert FaqStore(session).get("U-4").status == FaqStatus.DRAFT.value  # harvest.new_entries
        assert FaqStore(session).get("U-3").status == FaqStatus.DRAFT.value  # new in the first file
    assert _open_reviews(database) == [
        ("U-1", "upstream", ["answer"], ["answer"], True),
        ("U-2", "upstream", ["answer"], [], True),
    ]


def test_setup_loads_the_shipped_base_published_whatever_new_entries_says(
    database_url: str, database: Database, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    write(content, "base", "jsonl", FIRST)
    settings = app_settings(database_url, tmp_path, harvest={"new_entries": "draft"})
    settings = settings.model_copy(
        update={"knowledge": settings.knowledge.model_copy(update={"content_dir": content})}
    )
    lines = list(setup_store(settings))
    assert any("3 imported" in line for line in lines), lines
    with database.session() as session:
        assert {FaqStore(session).get(e["id"]).status for e in FIRST} == {FaqStatus.PUBLISHED.value}
