"""What staff do with a cluster of failed questions: teach an FAQ its phrasings, open a draft, dismiss.

Every action goes through the FAQ store (a revision for the entry, and a new knowledge-base
version when a published entry changes, which the live index picks up within seconds; an
unpublished console edit of the entry gets the new phrasings too),
records a resolution so the cluster leaves the queue, and writes the audit log. The caller
owns the transaction: all of it happens, or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.learning.queue import REDACTION_TAGS
from bot.learning.resolutions import ResolutionStore
from bot.store.errors import ConflictError
from bot.store.faqs import FaqExists, FaqStore, row_to_record
from bot.store.models import FaqDraftRow
from bot.store.users import UserStore
from knowledge.faq import MAX_QUESTION_CHARS, FaqRecord, FaqStatus
from knowledge.normalize import clean_text, question_key

__all__ = ["ActionError", "Added", "Picked", "add_alternatives", "dismiss", "open_draft"]


class ActionError(ValueError):
    """A request staff can correct (the message says how, in Chinese)."""


@dataclass(frozen=True)
class Picked:
    """A phrasing chosen from a cluster: its original ``key`` (what the queue hides) and the ``text`` to use."""

    key: str
    text: str


@dataclass(frozen=True)
class Added:
    faq_id: str
    added: tuple[str, ...]  # new alternative questions
    present: tuple[str, ...]  # chosen phrasings the entry already had
    published: bool  # the entry is live: citizens are answered with it within seconds
    revision: int
    resolution_id: int


def _clean(picked: Sequence[Picked]) -> list[Picked]:
    if not picked:
        raise ActionError("請至少勾選一個問法。")
    out = []
    for item in picked:
        text = clean_text(item.text).replace("\n", " ")
        if not text or not question_key(text):
            raise ActionError("問法不可空白。")
        if len(text) > MAX_QUESTION_CHARS:
            raise ActionError(f"問法「{text[:20]}…」超過 {MAX_QUESTION_CHARS} 字。")
        if any(tag in text for tag in REDACTION_TAGS):
            raise ActionError(f"問法「{text}」含有已遮蔽的個人資料標記，請改寫後再加入。")
        out.append(Picked(item.key, text))
    return out


def add_alternatives(
    session: Session,
    *,
    faq_id: str,
    picked: Sequence[Picked],
    actor: str,
    expected_revision: int | None = None,
    label: str = "",
    questions: int = 0,
) -> Added:
    """Add the chosen phrasings to ``faq_id``'s alternative questions and resolve them."""
    picked = _clean(picked)
    store = FaqStore(session)
    row = store.get(faq_id)
    record = row_to_record(row)
    known = {question_key(text) for text in record.texts()}
    added: list[str] = []
    present: list[str] = []
    for item in picked:
        key = question_key(item.text)
        (present if key in known else added).append(item.text)
        known.add(key)
    note = f"learning from failures: {len(added)} alternative question(s) from「{label[:60]}」"
    if added:
        updated = record.model_copy(update={"alt_questions": [*record.alt_questions, *added]})
        try:
            updated = FaqRecord.model_validate(updated.model_dump())
        except ValidationError as error:
            raise ActionError(f"無法加入：{error.errors()[0]['msg']}") from None
        before = row.revision
        row = store.replace(updated, actor=actor, expected_revision=expected_revision, note=note)
        _carry_into_pending_edit(session, faq_id, added, before, row.revision)
    elif expected_revision is not None and row.revision != expected_revision:
        raise ConflictError(
            f"{faq_id} is at revision {row.revision}, the edit was made on {expected_revision}"
        )
    resolution = ResolutionStore(session).record(
        actor=actor,
        action="alternatives",
        keys=[item.key for item in picked],
        faq_id=faq_id,
        label=label,
        questions=questions,
        note=note,
    )
    UserStore(session).audit(
        actor,
        "learning.alternatives",
        faq_id,
        added=added,
        present=present,
        cluster=label[:200],
        questions=questions,
        resolution=resolution,
    )
    return Added(
        faq_id,
        tuple(added),
        tuple(present),
        row.status == FaqStatus.PUBLISHED.value,
        row.revision,
        resolution,
    )


def _carry_into_pending_edit(
    session: Session, faq_id: str, added: list[str], before: int, after: int
) -> None:
    """A pending console edit of the entry gets the new phrasings too, so publishing it keeps them."""
    pending = session.get(FaqDraftRow, faq_id)
    if pending is None:
        return
    content = dict(pending.content)
    alternatives = [str(a) for a in content.get("alt_questions", [])]
    known = {question_key(a) for a in alternatives} | {question_key(str(content.get("question", "")))}
    content["alt_questions"] = alternatives + [a for a in added if question_key(a) not in known]
    pending.content = content
    if pending.base_revision == before:  # made on the entry as it just was: still current
        pending.base_revision = after


def open_draft(
    session: Session,
    *,
    faq_id: str,
    question: str,
    answer: str,
    alt_questions: Sequence[str],
    keys: Sequence[str],
    actor: str,
    agency: str = "",
    category: str = "",
    label: str = "",
    questions: int = 0,
) -> int:
    """Create a draft FAQ from a cluster and resolve its phrasings; the resolution's id."""
    for text in (question, *alt_questions):
        if any(tag in text for tag in REDACTION_TAGS):
            raise ActionError(f"「{text}」含有已遮蔽的個人資料標記，請改寫後再建立。")
    try:
        record = FaqRecord.model_validate(
            {
                "id": faq_id.strip(),
                "question": question,
                "answer": answer,
                "alt_questions": [a for a in alt_questions if question_key(a) != question_key(question)],
                "agency": agency,
                "category": category,
                "status": FaqStatus.DRAFT,
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ActionError(f"{field}：{first['msg']}") from None
    store = FaqStore(session)
    note = f"learning from failures: draft from「{label[:60]}」"
    try:
        store.create(record, actor=actor, note=note)
    except FaqExists as error:
        raise ActionError(f"編號 {record.id} 已經有人使用，請換一個。") from error
    resolution = ResolutionStore(session).record(
        actor=actor, action="draft", keys=keys, faq_id=record.id, label=label, questions=questions, note=note
    )
    UserStore(session).audit(
        actor, "learning.draft", record.id, cluster=label[:200], questions=questions, resolution=resolution
    )
    return resolution


def dismiss(
    session: Session, *, keys: Sequence[str], actor: str, note: str = "", label: str = "", questions: int = 0
) -> int:
    """Take a cluster off the queue without changing the knowledge base (chit-chat, not our city's)."""
    resolution = ResolutionStore(session).record(
        actor=actor, action="dismiss", keys=keys, label=label, questions=questions, note=note.strip()[:500]
    )
    UserStore(session).audit(
        actor, "learning.dismiss", label[:200], questions=questions, note=note[:200], resolution=resolution
    )
    return resolution
