"""The two layers of an entry: imports write the source, staff write overrides, conflicts are reviewed."""

from pathlib import Path
from typing import Any

import pytest

from bot.store import Database
from bot.store.faq_layers import Resolution, flag_gone, load_layers, merge
from bot.store.faqs import FaqStore, row_to_record
from bot.store.kb_import import ImportReport, import_rows
from bot.store.models import FaqReviewRow, FaqSourceRow
from knowledge.faq import FaqRecord, FaqStatus
from knowledge.importers import Parsed, read
from tests.factories import faq


def _import(database: Database, *records: FaqRecord, **options: Any) -> ImportReport:
    with database.session() as session:
        rows = [Parsed(f"line {n}", record) for n, record in enumerate(records, start=1)]
        return import_rows(session, rows, actor="harvest", **options)


def _staff_edit(database: Database, faq_id: str, **fields: object) -> None:
    with database.session() as session:
        store = FaqStore(session)
        record = row_to_record(store.get(faq_id)).model_copy(update=fields)
        store.replace(record, actor="curator")


def _live(database: Database, faq_id: str) -> dict[str, object]:
    with database.session() as session:
        return row_to_record(FaqStore(session).get(faq_id)).content()


def _reviews(database: Database) -> list[FaqReviewRow]:
    with database.session() as session:
        return list(session.query(FaqReviewRow).order_by(FaqReviewRow.id))


def test_the_issue_a_reimport_keeps_the_alternative_question_staff_added(
    database: Database, shared_data: Path
) -> None:
    path = shared_data / "kaohsiung_faq.jsonl"
    with database.session() as session:
        first = import_rows(session, read(path), actor="cli")
    assert first.imported == 1427
    with database.session() as session:
        store = FaqStore(session)
        record = row_to_record(store.get("KHH-397150000I-3"))
        store.replace(record.model_copy(update={"alt_questions": ["沙發要怎麼丟"]}), actor="curator")
    with database.session() as session:
        second = import_rows(session, read(path), actor="cli")
        entry = FaqStore(session).get("KHH-397150000I-3")
        assert entry.alt_questions == ["沙發要怎麼丟"]
    assert (second.updated, second.unchanged, second.conflicts) == (0, 1427, 0)
    assert second.kb_version is None


def test_an_upstream_change_to_a_field_staff_did_not_touch_is_applied(database: Database) -> None:
    _import(database, faq("A"))
    _staff_edit(database, "A", alt_questions=["沙發要怎麼丟"])
    report = _import(database, faq("A", answer="新的官方回答。"))
    live = _live(database, "A")
    assert (report.updated, report.conflicts) == (1, 0)
    assert (live["answer"], live["alt_questions"]) == ("新的官方回答。", ["沙發要怎麼丟"])
    assert report.kb_version is not None
    assert _reviews(database) == []


def test_an_upstream_change_to_a_field_staff_overrode_is_a_review_item(database: Database) -> None:
    _import(database, faq("A"))
    _staff_edit(database, "A", answer="我們改過的回答。")
    report = _import(database, faq("A", answer="新的官方回答。", category="新類別"))
    live = _live(database, "A")
    assert (report.updated, report.conflicts) == (0, 1)
    assert report.kb_version is not None  # the category reached citizens
    assert (live["answer"], live["category"]) == ("我們改過的回答。", "新類別")
    [item] = _reviews(database)
    assert (item.kind, item.status, item.conflicts, item.held) == ("upstream", "open", ["answer"], False)
    assert item.old_source["answer"] == faq("A").answer
    assert item.new_source["answer"] == "新的官方回答。"
    assert item.ours["answer"] == "我們改過的回答。"


@pytest.mark.parametrize(
    ("choice", "edited", "answer"),
    [
        (Resolution.KEEP_OURS, None, "我們改過的回答。"),
        (Resolution.TAKE_THEIRS, None, "新的官方回答。"),
        (Resolution.EDIT, {"answer": "合併後的回答。"}, "合併後的回答。"),
    ],
)
def test_resolving_a_conflict(
    database: Database, choice: Resolution, edited: dict[str, str] | None, answer: str
) -> None:
    _import(database, faq("A"))
    _staff_edit(database, "A", answer="我們改過的回答。")
    _import(database, faq("A", answer="新的官方回答。"))
    [item] = _reviews(database)
    with database.session() as session:
        FaqStore(session).resolve(item.id, choice, actor="curator", edited=edited)
    assert _live(database, "A")["answer"] == answer
    again = _import(database, faq("A", answer="新的官方回答。"))
    assert (again.unchanged, again.conflicts) == (1, 0)
    with database.session() as session:
        layers = load_layers(session, "A")
        assert ("answer" in layers.overrides) is (choice is not Resolution.TAKE_THEIRS)
    [resolved] = _reviews(database)
    assert resolved.status == choice.value


def test_held_upstream_changes_wait_for_review(database: Database) -> None:
    _import(database, faq("A"))
    report = _import(database, faq("A", answer="新的官方回答。"), hold=True)
    assert (report.held, report.kb_version) == (1, None)
    assert _live(database, "A")["answer"] == faq("A").answer
    [item] = _reviews(database)
    assert (item.held, item.fields, item.conflicts) == (True, ["answer"], [])
    with database.session() as session:
        FaqStore(session).resolve(item.id, Resolution.TAKE_THEIRS, actor="curator")
    assert _live(database, "A")["answer"] == "新的官方回答。"


def test_import_never_changes_status_and_new_entries_take_the_given_status(database: Database) -> None:
    _import(database, faq("A"), new_status=FaqStatus.DRAFT)
    assert _live(database, "A")["status"] == "draft"
    with database.session() as session:
        FaqStore(session).set_status("A", FaqStatus.ARCHIVED, actor="curator")
    _import(database, faq("A", status=FaqStatus.PUBLISHED, answer="新的官方回答。"))
    assert _live(database, "A")["status"] == "archived"


def test_the_entry_is_always_the_merge_of_its_layers(database: Database) -> None:
    _import(database, faq("A"))
    _staff_edit(database, "A", keywords=["沙發"], answer="我們改過的回答。")
    _import(database, faq("A", answer="新的官方回答。", agency="新機關"))
    with database.session() as session:
        layers = load_layers(session, "A")
        live = row_to_record(FaqStore(session).get("A")).content()
        assert {k: live[k] for k in layers.merged()} == merge(layers.source_content, layers.override_values)
        assert layers.override_values == {"keywords": ["沙發"], "answer": "我們改過的回答。"}


@pytest.mark.parametrize(
    ("choice", "status"), [(Resolution.ARCHIVE, "archived"), (Resolution.KEEP_OURS, "published")]
)
def test_an_entry_gone_upstream_is_archived_or_kept_by_staff(
    database: Database, choice: Resolution, status: str
) -> None:
    _import(database, faq("A"), origin="soweb")
    with database.session() as session:
        assert flag_gone(session, "A", run_id=None)
        assert not flag_gone(session, "A", run_id=None), "flagged once"
    [item] = _reviews(database)
    assert (item.kind, item.status) == ("gone", "open")
    with database.session() as session:
        FaqStore(session).resolve(item.id, choice, actor="curator")
    assert _live(database, "A")["status"] == status
    assert [r.status for r in _reviews(database)] == [choice.value]


def test_an_entry_listed_again_loses_its_gone_flag(database: Database) -> None:
    _import(database, faq("A"), origin="soweb")
    with database.session() as session:
        flag_gone(session, "A", run_id=None)
    _import(database, faq("A"), origin="soweb")
    with database.session() as session:
        source = session.get(FaqSourceRow, "A")
        assert source is not None
        assert source.gone_at is None
    assert [(r.kind, r.status) for r in _reviews(database)] == [("gone", "returned")]


def test_an_import_names_the_agency_canonically_and_the_source_layer_keeps_its_name(
    database: Database,
) -> None:
    first = _import(database, faq("A", agency="工務局養護工程處"), faq("B", agency="高雄市研考會"))
    assert first.imported == 2
    assert _live(database, "A")["agency"] == "高雄市政府工務局"
    assert _live(database, "B")["agency"] == "高雄市政府研究發展考核委員會"
    with database.session() as session:
        assert load_layers(session, "A").source_content["agency"] == "工務局養護工程處"  # type: ignore[index]
        assert len(FaqStore(session).history("A")) == 1
    again = _import(database, faq("A", agency="工務局養護工程處"), faq("B", agency="高雄市研考會"))
    assert (again.unchanged, again.updated, again.kb_version) == (2, 0, None)
    with database.session() as session:
        assert len(FaqStore(session).history("A")) == 1, "the canonical name is no change to record"
    renamed = _import(database, faq("A", agency="高雄市政府工務局"))
    assert renamed.kb_version is None, "another name of the same agency: citizens see no change"
    with database.session() as session:
        assert load_layers(session, "A").source_content["agency"] == "高雄市政府工務局"  # type: ignore[index]
        assert len(FaqStore(session).history("A")) == 1
        assert FaqStore(session).search(agency="工務局").total == 1, "any name of the agency finds it"


def test_an_unknown_agency_is_imported_as_it_is(database: Database) -> None:
    _import(database, faq("A", agency="某某里辦公處"))
    assert _live(database, "A")["agency"] == "某某里辦公處"
