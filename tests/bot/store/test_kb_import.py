from pathlib import Path

from bot.store import Database
from bot.store.faqs import FaqStore
from bot.store.kb_import import import_rows
from knowledge.faq import FaqStatus
from knowledge.importers import Parsed, Rejected, Row, read
from tests.factories import faq


def _rows(*records: Row) -> list[Row]:
    return list(records)


def test_import_twice_changes_nothing_the_second_time(database: Database) -> None:
    rows = _rows(Parsed("line 1", faq("A")), Parsed("line 2", faq("B", question="路燈壞了怎麼辦？")))
    with database.session() as session:
        first = import_rows(session, rows, actor="t")
    with database.session() as session:
        second = import_rows(session, rows, actor="t")
        version = FaqStore(session).kb_version()
    assert (first.imported, first.unchanged, first.kb_version) == (2, 0, 1)
    assert (second.imported, second.updated, second.unchanged, second.kb_version) == (0, 0, 2, None)
    assert "nothing changed" in second.summary()
    assert version == 1


def test_changed_rows_are_updated_with_history(database: Database) -> None:
    with database.session() as session:
        import_rows(session, [Parsed("line 1", faq("A"))], actor="t")
    with database.session() as session:
        report = import_rows(session, [Parsed("line 1", faq("A", answer="新答案。"))], actor="t2")
        history = FaqStore(session).history("A")
    assert (report.updated, report.kb_version) == (1, 2)
    assert [(h.action, h.actor) for h in history] == [("import", "t"), ("import", "t2")]


def test_rejections_are_reported_and_good_rows_kept(database: Database) -> None:
    rows = _rows(
        Parsed("line 1", faq("A")),
        Rejected("line 2", "bad JSON"),
        Parsed("line 3", faq("C", question="第三題")),
    )
    with database.session() as session:
        report = import_rows(session, rows, actor="t")
    assert report.imported == 2
    assert [(r.where, r.reason) for r in report.rejected] == [("line 2", "bad JSON")]
    assert report.rows == 3


def test_a_repeated_id_in_one_file_is_rejected(database: Database) -> None:
    rows = _rows(Parsed("line 1", faq("A")), Parsed("line 9", faq("A", answer="另一個。")))
    with database.session() as session:
        report = import_rows(session, rows, actor="t")
    assert report.imported == 1
    assert report.rejected[0].reason == "id A already given at line 1"


def test_duplicates_are_reported_and_merged_only_when_asked(database: Database) -> None:
    rows = _rows(
        Parsed("line 1", faq("A", question="大型垃圾要怎麼預約清運？")),
        Parsed("line 2", faq("B", question="大型垃圾要怎么预约清运?", alt_questions=["沙發不要了怎麼辦"])),
    )
    with database.session() as session:
        plain = import_rows(session, rows, actor="t")
    assert (plain.imported, [(d.faq_id, d.same_as) for d in plain.duplicates]) == (2, [("B", "A")])

    other = (
        Database(str(database.engine.url).replace("store.db", "merge.db"))
        if "sqlite" in str(database.engine.url)
        else None
    )
    if other is None:  # PostgreSQL: start from an empty table instead of a second file
        with database.session() as session:
            for faq_id in ("A", "B"):
                session.delete(FaqStore(session).get(faq_id))
        other = database
    other.migrate()
    with other.session() as session:
        merged = import_rows(session, rows, actor="t", merge_duplicates=True)
        entry = FaqStore(session).get("A")
        assert session.get(type(entry), "B") is None
    assert (merged.imported, merged.merged) == (1, 1)
    assert "沙發不要了怎麼辦" in entry.alt_questions


def test_drafts_do_not_move_the_version(database: Database) -> None:
    with database.session() as session:
        report = import_rows(session, [Parsed("line 1", faq("A", status=FaqStatus.DRAFT))], actor="t")
    assert (report.imported, report.kb_version) == (1, None)


def test_the_real_kaohsiung_harvest(database: Database, shared_data: Path) -> None:
    path = shared_data / "kaohsiung_faq.jsonl"
    with database.session() as session:
        first = import_rows(session, read(path), actor="t")
    with database.session() as session:
        second = import_rows(session, read(path), actor="t")
        assert FaqStore(session).search(status=FaqStatus.PUBLISHED).total == 1427
    assert (first.rows, first.imported, len(first.rejected)) == (1427, 1427, 0)
    assert first.duplicates, "the harvest holds duplicate questions"
    assert (second.rows, second.unchanged) == (1427, 1427)
