"""The one import path: file importers and the scraper feed rows here.

Upsert by id in one transaction: a new id is imported, one the source changed updated, an
equal one left unchanged. Only the source layer is written (``bot.store.faq_layers``): what
staff changed in an entry is never undone by an import; an upstream change to a field staff
overrode is a conflict for review, and with ``hold`` every upstream change waits for review. A question equal to another entry's after normalisation is a duplicate:
reported, and merged into the first entry (its phrasings become alternative questions)
only when asked. A rejected row is reported with where and why; every good row is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.faq_layers import Harvested, source_content
from bot.store.faqs import FaqStore, row_to_record
from bot.store.models import FaqReviewRow, FaqRow, FaqSourceRow
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
    conflicts: int = 0
    held: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    kb_version: int | None = None
    writes: int = 0

    @property
    def rows(self) -> int:
        return (
            self.imported
            + self.updated
            + self.unchanged
            + self.merged
            + self.conflicts
            + self.held
            + len(self.rejected)
        )

    @property
    def changed(self) -> bool:
        return bool(self.imported or self.updated or self.writes or self.conflicts or self.held)

    def summary(self) -> str:
        text = (
            f"{self.rows} rows: {self.imported} imported, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.merged} merged, {len(self.rejected)} rejected; "
            f"{len(self.duplicates)} duplicates"
        )
        if self.conflicts or self.held:
            text += (
                f"; {self.conflicts} changed upstream where staff changed them (for review), "
                f"{self.held} upstream changes held for review"
            )
        if self.duplicates and not self.merged:
            text += " (kept apart; --merge-duplicates folds them into the first)"
        if not self.changed:
            text += " — nothing changed"
        return text


class _Seen:
    """Ids and question keys already in the store or earlier in this file."""

    def __init__(self, session: Session) -> None:
        self.known: set[str] = set()
        self.id_by_key: dict[str, str] = {}
        self.where_by_id: dict[str, str] = {}
        for faq_id, key in session.execute(select(FaqRow.id, FaqRow.question_key)):
            self.known.add(faq_id)
            self.id_by_key.setdefault(key, faq_id)


class _Sources:
    """The source layer as it stands, read once: an unchanged row then costs no query."""

    def __init__(self, session: Session) -> None:
        self.by_id: dict[str, tuple[dict[str, Any], str]] = {
            faq_id: (content, origin)
            for faq_id, content, origin in session.execute(
                select(FaqSourceRow.faq_id, FaqSourceRow.content, FaqSourceRow.origin).where(
                    FaqSourceRow.gone_at.is_(None)
                )
            )
        }
        self.held = set(
            session.scalars(
                select(FaqReviewRow.faq_id).where(FaqReviewRow.status == "open", FaqReviewRow.held.is_(True))
            )
        )

    def unchanged(self, record: FaqRecord, origin: str) -> bool:
        known = self.by_id.get(record.id)
        return (
            known is not None
            and known[1] == origin
            and record.id not in self.held
            and known[0] == source_content(record)
        )


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
    origin: str = "file",
    hold: bool = False,
    new_status: FaqStatus | None = None,
    run_id: int | None = None,
    seen_ids: set[str] | None = None,
) -> ImportReport:
    """Import every row into the store through ``session`` (the caller commits).

    ``origin`` names the source (``file``, ``soweb``); ``new_status`` is the status of new
    entries (default: the row's); ``seen_ids`` collects every id the rows named."""
    store = FaqStore(session)
    seen = _Seen(session)
    sources = _Sources(session)
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
        if seen_ids is not None:
            seen_ids.add(record.id)
        key = question_key(record.question)
        twin = seen.id_by_key.get(key)
        if twin is not None and twin != record.id and record.id not in seen.known:
            report.duplicates.append(Duplicate(where, record.id, twin))
            if merge_duplicates:
                report.merged += 1
                if _merge(store, twin, record, where, actor):
                    report.writes += 1
                    live_changes += 1
                continue
        if sources.unchanged(record, origin):
            outcome, live = Harvested.UNCHANGED, False
        else:
            outcome, live = store.harvest(
                record, actor=actor, origin=origin, hold=hold, new_status=new_status, run_id=run_id
            )
        seen.known.add(record.id)
        _count(report, outcome)
        live_changes += int(live)
        seen.id_by_key.setdefault(key, record.id)
    if live_changes:
        report.kb_version = store.bump_version(
            actor=actor, note=f"import: {report.summary()}", changed=live_changes
        )
    return report


def _count(report: ImportReport, outcome: Harvested) -> None:
    if outcome is Harvested.NEW:
        report.imported += 1
    elif outcome is Harvested.CHANGED:
        report.updated += 1
    elif outcome is Harvested.CONFLICT:
        report.conflicts += 1
    elif outcome is Harvested.HELD:
        report.held += 1
    else:
        report.unchanged += 1
