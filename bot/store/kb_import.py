"""The one import path: file importers and the scraper feed rows here.

Upsert by id in one transaction: a new id is imported, a changed one updated, an equal one
left unchanged. A question equal to another entry's after normalisation is a duplicate:
reported, and merged into the first entry (its phrasings become alternative questions)
only when asked. A rejected row is reported with where and why; every good row is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqRow
from knowledge.faq import FaqRecord, FaqStatus
from knowledge.importers import Rejected, Row, row_cells
from knowledge.normalize import question_key

__all__ = ["Duplicate", "ImportReport", "import_rows"]


@dataclass(frozen=True, slots=True)
class Duplicate:
    where: str
    faq_id: str
    same_as: str


@dataclass(slots=True)
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    kb_version: int | None = None
    writes: int = 0

    @property
    def rows(self) -> int:
        return self.imported + self.updated + self.unchanged + self.merged + len(self.rejected)

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.updated or self.writes)

    def summary(self) -> str:
        text = (
            f"{self.rows} rows: {self.imported} imported, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.merged} merged, {len(self.rejected)} rejected; "
            f"{len(self.duplicates)} duplicates"
        )
        if self.duplicates and not self.merged:
            text += " (kept apart; --merge-duplicates folds them into the first)"
        if not self.changed:
            text += " — nothing changed"
        return text


class _Seen:
    """Ids and question keys already in the store or earlier in this file."""

    def __init__(self, session: Session) -> None:
        self.hash_by_id: dict[str, str] = {}
        self.id_by_key: dict[str, str] = {}
        self.where_by_id: dict[str, str] = {}
        for faq_id, key, digest in session.execute(
            select(FaqRow.id, FaqRow.question_key, FaqRow.content_hash)
        ):
            self.hash_by_id[faq_id] = digest
            self.id_by_key.setdefault(key, faq_id)


def _merge(store: FaqStore, target_id: str, record: FaqRecord, where: str, actor: str) -> bool:
    """Add the duplicate's phrasings to the first entry; False when it had them all already."""
    target = row_to_record(store.get(target_id))
    known = {question_key(q) for q in target.texts()}
    extra = [q for q in record.texts() if question_key(q) not in known]
    if not extra:
        return False
    merged = target.model_copy(update={"alt_questions": [*target.alt_questions, *extra]})
    store.replace(merged, actor=actor, action="merge", note=f"merged {record.id} ({where})")
    return True


def import_rows(
    session: Session,
    rows: Iterable[Row],
    *,
    actor: str,
    merge_duplicates: bool = False,
    progress: Callable[[Row], None] | None = None,
) -> ImportReport:
    """Import every row into the store through ``session`` (the caller commits)."""
    store = FaqStore(session)
    seen = _Seen(session)
    report = ImportReport()
    live_changes = 0
    for row in rows:
        if progress is not None:
            progress(row)
        if isinstance(row, Rejected):
            report.rejected.append(row)
            continue
        record, where = row.record, row.where
        if record.id in seen.where_by_id:
            report.rejected.append(
                Rejected(
                    where,
                    f"id {record.id} already given at {seen.where_by_id[record.id]}",
                    row_cells(record.model_dump(mode="json")),
                )
            )
            continue
        seen.where_by_id[record.id] = where
        key = question_key(record.question)
        twin = seen.id_by_key.get(key)
        if twin is not None and twin != record.id and record.id not in seen.hash_by_id:
            report.duplicates.append(Duplicate(where, record.id, twin))
            if merge_duplicates:
                report.merged += 1
                if _merge(store, twin, record, where, actor):
                    report.writes += 1
                    live_changes += 1
                continue
        live_changes += _upsert(store, seen, record, actor, report)
        seen.id_by_key.setdefault(key, record.id)
    if live_changes:
        report.kb_version = store.bump_version(
            actor=actor, note=f"import: {report.summary()}", changed=live_changes
        )
    return report


def _upsert(store: FaqStore, seen: _Seen, record: FaqRecord, actor: str, report: ImportReport) -> int:
    """Insert or update one record; return 1 when the published set changed."""
    digest = record.content_hash()
    previous = seen.hash_by_id.get(record.id)
    seen.hash_by_id[record.id] = digest
    if previous is None:
        store.create(record, actor=actor, action="import")
        report.imported += 1
        return int(record.status is FaqStatus.PUBLISHED)
    if previous == digest:
        report.unchanged += 1
        return 0
    before = store.get(record.id).status
    store.replace(record, actor=actor, action="import")
    report.updated += 1
    return int(FaqStatus.PUBLISHED.value in {before, record.status.value})
