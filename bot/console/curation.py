"""Knowledge-base curation as the console does it: drafts, publish, archive, rollback, merge.

A draft (never published) or archived entry is edited in place. A published entry keeps
answering citizens while a member of staff works on it: the changes wait in ``faq_draft``
until published. Every step is made against the revision the page showed, so two people
editing the same entry never overwrite each other, and every step is in the entry's history
(and the audit log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.errors import ConflictError
from bot.store.faqs import FaqNotFound, FaqStore, row_to_record
from bot.store.models import DuplicateDismissalRow, FaqDraftRow, FaqRevisionRow, FaqRow, utcnow
from bot.store.users import UserStore
from knowledge.faq import FaqRecord, FaqStatus
from knowledge.normalize import question_key

__all__ = [
    "ConflictError",
    "Editing",
    "FIELD_LABELS",
    "FaqNotFound",
    "FormError",
    "archive",
    "choices",
    "create",
    "discard_draft",
    "dismiss_pair",
    "editing",
    "is_stale",
    "merge",
    "parse_form",
    "publish",
    "revised_on",
    "rollback",
    "save",
    "stale_cutoff",
]

FIELD_LABELS = {
    "id": "編號",
    "question": "問題",
    "answer": "回答",
    "alt_questions": "其他問法",
    "agency": "機關",
    "category": "類別",
    "keywords": "關鍵字",
    "source_url": "原始網頁",
    "sources": "資料來源",
    "post_date": "發布日期",
    "revise_date": "修訂日期",
    "status": "狀態",
}


class FormError(ValueError):
    """The form cannot make an entry; ``errors`` are Chinese messages naming the fields."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Editing:
    """What the edit page shows: the entry, its pending draft, and what the form starts with."""

    row: FaqRow
    live: FaqRecord
    draft: FaqDraftRow | None
    form: FaqRecord


def parse_form(fields: dict[str, str], *, status: FaqStatus, touch_revise_date: bool) -> FaqRecord:
    """An entry from the edit form (lists one a line; keywords may be comma separated)."""
    data: dict[str, Any] = {key: value for key, value in fields.items() if key in FIELD_LABELS}
    data["status"] = status
    if touch_revise_date:
        data["revise_date"] = date.today()
    try:
        return FaqRecord.model_validate(data)
    except ValidationError as error:
        messages = []
        for item in error.errors(include_url=False):
            field = str(item["loc"][0]) if item["loc"] else ""
            messages.append(f"{FIELD_LABELS.get(field, field)}：{_explain(item)}")
        raise FormError(messages) from None


def _explain(item: Any) -> str:
    kind = item.get("type", "")
    if kind in {"string_too_short", "missing"}:
        return "必填"
    if kind == "string_too_long":
        return f"太長（最多 {item.get('ctx', {}).get('max_length', '')} 字）"
    if kind == "string_pattern_mismatch":
        return "只能用英文字母、數字與 . _ : -，且以字母或數字開頭"
    return str(item.get("msg", "格式不正確")).removeprefix("Value error, ")


def _audit(session: Session, actor: str, action: str, faq_id: str, **detail: Any) -> None:
    UserStore(session).audit(actor, action, faq_id, **detail)


def _check(row: FaqRow, base_revision: int) -> None:
    if row.revision != base_revision:
        raise ConflictError(f"{row.id} is at revision {row.revision}, the page showed {base_revision}")


def editing(session: Session, faq_id: str) -> Editing:
    row = FaqStore(session).get(faq_id)
    live = row_to_record(row)
    draft = session.get(FaqDraftRow, faq_id)
    form = live
    if draft is not None:
        form = FaqRecord.model_validate({**draft.content, "id": faq_id, "status": live.status})
    return Editing(row, live, draft, form)


def create(session: Session, record: FaqRecord, *, actor: str) -> FaqRow:
    row = FaqStore(session).create(record, actor=actor)
    _audit(session, actor, "faq.create", record.id, status=record.status.value)
    return row


def save(session: Session, record: FaqRecord, *, base_revision: int, actor: str) -> str:
    """Keep an edit: a published entry gets a draft, any other is changed in place.

    Returns ``"draft"``, ``"updated"`` or ``"unchanged"``.
    """
    store = FaqStore(session)
    row = store.get(record.id)
    _check(row, base_revision)
    if row.status != FaqStatus.PUBLISHED.value:
        before = row.revision
        store.replace(record.model_copy(update={"status": FaqStatus(row.status)}), actor=actor)
        if row.revision == before:
            return "unchanged"
        _audit(session, actor, "faq.update", record.id, revision=row.revision)
        return "updated"
    content = record.model_copy(update={"status": FaqStatus.PUBLISHED}).content()
    draft = session.get(FaqDraftRow, record.id)
    if content == row_to_record(row).content():
        if draft is not None:
            session.delete(draft)
        return "unchanged"
    if draft is None:
        draft = FaqDraftRow(faq_id=record.id)
        session.add(draft)
    draft.content, draft.base_revision, draft.actor, draft.updated_at = content, row.revision, actor, utcnow()
    _audit(session, actor, "faq.draft", record.id, base_revision=row.revision)
    return "draft"


def publish(
    session: Session, faq_id: str, *, base_revision: int, actor: str, record: FaqRecord | None = None
) -> FaqRow:
    """Make an entry live with ``record``'s content, else its draft's, else as it stands."""
    store = FaqStore(session)
    row = store.get(faq_id)
    _check(row, base_revision)
    draft = session.get(FaqDraftRow, faq_id)
    if record is None:
        record = editing(session, faq_id).form
    published = record.model_copy(update={"status": FaqStatus.PUBLISHED})
    store.replace(published, actor=actor, expected_revision=base_revision, action="publish")
    if draft is not None:
        session.delete(draft)
    _audit(session, actor, "faq.publish", faq_id, revision=row.revision)
    return row


def archive(session: Session, faq_id: str, *, base_revision: int, actor: str) -> FaqRow:
    """Withdraw an entry from answers; a pending draft is kept as the archived content."""
    store = FaqStore(session)
    row = store.get(faq_id)
    _check(row, base_revision)
    record = editing(session, faq_id).form.model_copy(update={"status": FaqStatus.ARCHIVED})
    store.replace(record, actor=actor, expected_revision=base_revision, action="archive")
    session.execute(delete(FaqDraftRow).where(FaqDraftRow.faq_id == faq_id))
    _audit(session, actor, "faq.archive", faq_id, revision=row.revision)
    return row


def discard_draft(session: Session, faq_id: str, *, actor: str) -> bool:
    FaqStore(session).get(faq_id)
    draft = session.get(FaqDraftRow, faq_id)
    if draft is None:
        return False
    session.delete(draft)
    _audit(session, actor, "faq.discard_draft", faq_id)
    return True


def rollback(session: Session, faq_id: str, revision: int, *, base_revision: int, actor: str) -> FaqRow:
    """Bring back the content an entry had after ``revision`` (its status stays as it is now)."""
    store = FaqStore(session)
    row = store.get(faq_id)
    _check(row, base_revision)
    old = session.scalars(
        select(FaqRevisionRow)
        .where(FaqRevisionRow.faq_id == faq_id, FaqRevisionRow.revision == revision)
        .order_by(FaqRevisionRow.id.desc())
    ).first()
    if old is None or old.after is None:
        raise FaqNotFound(f"{faq_id} revision {revision}")
    record = FaqRecord.model_validate({**old.after, "id": faq_id, "status": row.status})
    store.replace(
        record,
        actor=actor,
        expected_revision=base_revision,
        action="rollback",
        note=f"回復到第 {revision} 版",
    )
    session.execute(delete(FaqDraftRow).where(FaqDraftRow.faq_id == faq_id))
    _audit(session, actor, "faq.rollback", faq_id, to_revision=revision, revision=row.revision)
    return row


def merge(session: Session, keep_id: str, drop_id: str, *, actor: str) -> FaqRow:
    """Fold ``drop_id`` into ``keep_id``: its phrasings become alternative questions, it is archived."""
    if keep_id == drop_id:
        raise ConflictError("an entry cannot be merged into itself")
    store = FaqStore(session)
    keep, drop = store.get(keep_id), store.get(drop_id)
    for faq_id in (keep_id, drop_id):
        if session.get(FaqDraftRow, faq_id) is not None:
            raise ConflictError(f"{faq_id} has an unpublished draft; publish or discard it first")
    target, extra = row_to_record(keep), row_to_record(drop)
    known = {question_key(text) for text in target.texts()}
    added = [text for text in extra.texts() if question_key(text) not in known]
    if added:
        merged = target.model_copy(update={"alt_questions": [*target.alt_questions, *added]})
        store.replace(merged, actor=actor, action="merge", note=f"併入 {drop_id}")
    if drop.status != FaqStatus.ARCHIVED.value:
        archived = extra.model_copy(update={"status": FaqStatus.ARCHIVED})
        store.replace(archived, actor=actor, action="archive", note=f"已併入 {keep_id}")
    _audit(session, actor, "faq.merge", keep_id, merged=drop_id, added=len(added))
    return keep


def dismiss_pair(session: Session, first: str, second: str, *, actor: str) -> None:
    """Record that two entries are not duplicates (the finder stops listing the pair)."""
    a, b = sorted((first, second))
    if session.get(DuplicateDismissalRow, (a, b)) is None:
        session.add(DuplicateDismissalRow(first_id=a, second_id=b, actor=actor, at=utcnow()))
        _audit(session, actor, "faq.not_duplicate", a, other=b)


def stale_cutoff(stale_after_days: int, today: date | None = None) -> date:
    """Entries last revised before this day are stale."""
    return (today or date.today()) - timedelta(days=stale_after_days)


def revised_on(row: FaqRow | FaqRecord) -> date | None:
    return row.revise_date or row.post_date


def is_stale(row: FaqRow | FaqRecord, cutoff: date) -> bool:
    revised = revised_on(row)
    return revised is None or revised < cutoff


def choices(session: Session) -> tuple[list[str], list[str]]:
    """The agencies and categories in use, for the filters and the edit form."""
    agencies = session.scalars(
        select(FaqRow.agency).where(FaqRow.agency != "").distinct().order_by(FaqRow.agency)
    )
    categories = session.scalars(
        select(FaqRow.category).where(FaqRow.category != "").distinct().order_by(FaqRow.category)
    )
    return list(agencies), list(categories)
