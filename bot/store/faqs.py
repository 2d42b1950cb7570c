"""The knowledge-base store: FAQ entries, their history, and the live knowledge-base version.

Rules: every change writes a revision (who, when, before, after); every change to what
citizens are answered from (a published entry changed, published, or withdrawn) adds a
knowledge-base version, which is how the retrieval indexes know to refresh. Edits carry
the revision they were made against, so a concurrent edit is refused, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.agencies import canonical_agency
from bot.store import faq_layers
from bot.store.errors import ConflictError
from bot.store.faq_layers import Harvested
from bot.store.models import FaqRevisionRow, FaqRow, KbVersionRow, utcnow
from knowledge.faq import FaqRecord, FaqStatus
from knowledge.normalize import question_key

__all__ = [
    "ConflictError",
    "FaqNotFound",
    "FaqExists",
    "FaqPage",
    "FaqStore",
    "row_to_record",
]


class FaqNotFound(LookupError):
    pass


class FaqExists(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FaqPage:
    items: list[FaqRow]
    total: int
    page: int
    per_page: int


def row_to_record(row: FaqRow) -> FaqRecord:
    return FaqRecord.model_validate(
        {
            "id": row.id,
            "question": row.question,
            "answer": row.answer,
            "alt_questions": row.alt_questions,
            "agency": row.agency,
            "category": row.category,
            "keywords": row.keywords,
            "source_url": row.source_url,
            "sources": row.sources,
            "post_date": row.post_date,
            "revise_date": row.revise_date,
            "status": row.status,
        }
    )


def _apply(row: FaqRow, record: FaqRecord) -> None:
    for field in FaqRecord.model_fields:
        if field != "id":
            setattr(row, field, getattr(record, field))
    row.agency = canonical_agency(record.agency)  # the source layer keeps the name as the source gave it
    row.status = record.status.value
    row.question_key = question_key(record.question)
    row.content_hash = record.content_hash()
    row.updated_at = utcnow()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FaqStore:
    """Repository over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading -----------------------------------------------------------------
    def get(self, faq_id: str) -> FaqRow:
        row = self.session.get(FaqRow, faq_id)
        if row is None:
            raise FaqNotFound(faq_id)
        return row

    def search(
        self,
        *,
        text: str = "",
        status: FaqStatus | None = None,
        agency: str = "",
        category: str = "",
        revised_before: date | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> FaqPage:
        """A page of entries; ``revised_before`` keeps those last revised (or posted) before that
        day, or never dated — the stale ones."""
        query = select(FaqRow)
        if text.strip():
            pattern = f"%{_escape_like(text.strip())}%"
            query = query.where(
                or_(
                    FaqRow.id.ilike(pattern, escape="\\"),
                    FaqRow.question.ilike(pattern, escape="\\"),
                    FaqRow.answer.ilike(pattern, escape="\\"),
                    cast(FaqRow.alt_questions, String).ilike(pattern, escape="\\"),
                    cast(FaqRow.keywords, String).ilike(pattern, escape="\\"),
                )
            )
        if status is not None:
            query = query.where(FaqRow.status == status.value)
        if agency:
            query = query.where(FaqRow.agency == canonical_agency(agency))
        if category:
            query = query.where(FaqRow.category == category)
        if revised_before is not None:
            revised = func.coalesce(FaqRow.revise_date, FaqRow.post_date)
            query = query.where(or_(revised < revised_before, revised.is_(None)))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        items = self.session.scalars(
            query.order_by(FaqRow.id).offset((page - 1) * per_page).limit(per_page)
        ).all()
        return FaqPage(list(items), total, page, per_page)

    def published(self) -> list[FaqRecord]:
        rows = self.session.scalars(
            select(FaqRow).where(FaqRow.status == FaqStatus.PUBLISHED.value).order_by(FaqRow.id)
        )
        return [row_to_record(row) for row in rows]

    def history(self, faq_id: str) -> list[FaqRevisionRow]:
        self.get(faq_id)
        return list(
            self.session.scalars(
                select(FaqRevisionRow)
                .where(FaqRevisionRow.faq_id == faq_id)
                .order_by(FaqRevisionRow.revision, FaqRevisionRow.id)
            )
        )

    def kb_version(self) -> int:
        return int(self.session.scalar(select(func.max(KbVersionRow.id))) or 0)

    # --- writing -----------------------------------------------------------------
    def create(
        self,
        record: FaqRecord,
        *,
        actor: str,
        action: str = "create",
        note: str = "",
        origin: str | None = None,
    ) -> FaqRow:
        """A new entry: from a source when ``origin`` names it (its source layer), else staff's own."""
        if self.session.get(FaqRow, record.id) is not None:
            raise FaqExists(record.id)
        row = FaqRow(id=record.id, revision=1, created_at=utcnow())
        _apply(row, record)
        self.session.add(row)
        self.session.flush()
        if origin is not None:
            faq_layers.start_source(self.session, row.id, record, origin, row.created_at)
        else:
            faq_layers.note_staff_edit(self.session, row.id, None, record.content(), actor)
        self._log(row, action, actor, None, record.content(), note)
        return row

    def harvest(
        self,
        record: FaqRecord,
        *,
        actor: str,
        origin: str,
        hold: bool = False,
        new_status: FaqStatus | None = None,
        run_id: int | None = None,
    ) -> tuple[Harvested, bool]:
        """Bring what the source now says about one entry into its source layer (never over
        staff's changes: see ``bot.store.faq_layers``). A new entry takes ``new_status`` (else
        the record's). Returns what happened and whether what citizens see changed."""
        row = self.session.get(FaqRow, record.id)
        if row is None:
            status = new_status or record.status
            self.create(
                record.model_copy(update={"status": status}), actor=actor, action="import", origin=origin
            )
            return Harvested.NEW, status is FaqStatus.PUBLISHED
        outcome, merged = faq_layers.harvest(
            self.session, row, record, origin=origin, hold=hold, run_id=run_id
        )
        before = row_to_record(row).content()
        after = {**merged, "status": row.status}
        if after == before:
            return outcome, False
        _apply(row, FaqRecord.model_validate({**after, "id": row.id}))
        self.session.flush()
        self._log(row, "import", actor, before, after, "")
        return outcome, row.status == FaqStatus.PUBLISHED.value

    def replace(
        self,
        record: FaqRecord,
        *,
        actor: str,
        expected_revision: int | None = None,
        action: str = "update",
        note: str = "",
    ) -> FaqRow:
        """Replace an entry's content; refuse if it moved past ``expected_revision``."""
        row = self.get(record.id)
        if expected_revision is not None and row.revision != expected_revision:
            raise ConflictError(
                f"{record.id} is at revision {row.revision}, the edit was made on {expected_revision}"
            )
        before = row_to_record(row).content()
        if before == record.content():
            return row
        _apply(row, record)
        try:
            self.session.flush()
        except StaleDataError:
            raise ConflictError(f"{record.id} was changed by someone else meanwhile") from None
        faq_layers.note_staff_edit(self.session, row.id, before, record.content(), actor)
        self._log(row, action, actor, before, record.content(), note)
        return row

    def resolve(
        self,
        review_id: int,
        choice: faq_layers.Resolution,
        *,
        actor: str,
        edited: dict[str, Any] | None = None,
    ) -> FaqRow:
        """Staff's answer to a review item (see ``bot.store.faq_layers``); refused once resolved."""
        from bot.store.models import FaqReviewRow

        item = self.session.get(FaqReviewRow, review_id)
        if item is None:
            raise FaqNotFound(f"review {review_id}")
        if item.status != "open":
            raise ConflictError(
                f"review {review_id} was already resolved ({item.status} by {item.resolved_by})"
            )
        row = self.get(item.faq_id)
        before = row_to_record(row).content()
        if item.kind == "gone":
            item.status, item.resolved_by, item.resolved_at = choice.value, actor, utcnow()
            if choice is faq_layers.Resolution.ARCHIVE and row.status != FaqStatus.ARCHIVED.value:
                return self.set_status(row.id, FaqStatus.ARCHIVED, actor=actor)
            return row
        merged = faq_layers.resolution_content(self.session, item, choice, actor, edited)
        after = {**merged, "status": row.status}
        if after == before:
            return row
        _apply(row, FaqRecord.model_validate({**after, "id": row.id}))
        self.session.flush()
        self._log(row, f"review-{choice.value}"[:16], actor, before, after, f"review {review_id}")
        return row

    def set_status(
        self, faq_id: str, status: FaqStatus, *, actor: str, expected_revision: int | None = None
    ) -> FaqRow:
        record = row_to_record(self.get(faq_id)).model_copy(update={"status": status})
        action = {FaqStatus.PUBLISHED: "publish", FaqStatus.ARCHIVED: "archive"}.get(status, "unpublish")
        return self.replace(record, actor=actor, expected_revision=expected_revision, action=action)

    def bump_version(self, *, actor: str, note: str, changed: int) -> int:
        row = KbVersionRow(actor=actor, note=note, changed=changed, at=utcnow())
        self.session.add(row)
        self.session.flush()
        return row.id

    def _log(
        self,
        row: FaqRow,
        action: str,
        actor: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        note: str,
    ) -> None:
        self.session.add(
            FaqRevisionRow(
                faq_id=row.id,
                revision=row.revision,
                action=action,
                actor=actor,
                note=note,
                at=utcnow(),
                before=before,
                after=after,
            )
        )
        touches_live = FaqStatus.PUBLISHED.value in {
            (before or {}).get("status"),
            (after or {}).get("status"),
        }
        if touches_live and action not in {"import", "merge"}:
            self.bump_version(actor=actor, note=f"{action} {row.id}", changed=1)
