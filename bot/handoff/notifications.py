"""What citizens are told outside a reply to their own message, and when it is enqueued.

Every notice goes into the outbox in the same transaction as the change it reports (see
``bot.store.outbox``); the delivery loop pushes it through the citizen's channel. A case
notifies its conversation when it is filed, assigned, closed or rejected — once each
(``dedupe_key``). Cases filed without a conversation (the plain form, Open311) have no channel
to push to and are not notified.

The filing notice is held back for ``handoff.filed_notice_grace_seconds``: when the chat's own
reply already told the citizen the number (the usual case), the chat service settles the notice
(``settle_in_band``) and nothing is pushed; when that reply was lost (the dialogue engine timed
out after filing), the notice is pushed, so the citizen always learns their case number.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.cases import CaseStatus, category_by_code
from bot.messages import Reply
from bot.settings import local_zone
from bot.store.cases import CaseStore
from bot.store.models import CaseRow, NotificationRow, utcnow
from bot.store.outbox import NotificationStore

__all__ = [
    "NOTIFIED_STATUSES",
    "CASE_NUMBER_IN_TEXT",
    "change_case_status",
    "filed_text",
    "notify",
    "notify_case_filed",
    "notify_case_status",
    "status_text",
]

NOTIFIED_STATUSES = frozenset({CaseStatus.ASSIGNED, CaseStatus.CLOSED, CaseStatus.REJECTED})
CASE_NUMBER_IN_TEXT = re.compile(r"\d{6}-\d{4,}-\d")
MAX_PUBLIC_NOTE_CHARS = 500


def replies_json(*replies: Reply) -> list[dict[str, Any]]:
    return [reply.model_dump(mode="json") for reply in replies]


def notify(
    session: Session,
    conversation_id: str,
    kind: str,
    *replies: Reply,
    case_number: str = "",
    agent: str = "",
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> NotificationRow | None:
    """Enqueue ``replies`` for the conversation (None if ``dedupe_key`` was enqueued before)."""
    return NotificationStore(session).enqueue(
        conversation_id,
        kind,
        replies_json(*replies),
        case_number=case_number,
        agent=agent,
        dedupe_key=dedupe_key,
        not_before=not_before,
        now=now,
    )


def _how_to_check(case: CaseRow) -> str:
    if case.phone:
        return "查詢進度時請提供案件編號與電話末三碼（在這裡輸入「查詢案件」或撥打 1999）"
    return "查詢進度請撥打 1999 並提供案件編號"


def filed_text(case: CaseRow, lead: str = "已為您立案") -> str:
    category = category_by_code(case.category)
    return (
        f"{lead}，案件編號：{case.number}（{category.name}，承辦機關：{case.agency}）。"
        f"{_how_to_check(case)}；有進度時會在這裡通知您。"
    )


def status_text(case: CaseRow, status: CaseStatus, public_note: str = "") -> str:
    note = public_note.strip()
    said = f"處理說明：{note}。" if note else ""
    if status is CaseStatus.ASSIGNED:
        due = case.due_at.astimezone(local_zone())
        return f"您的案件 {case.number} 已派工，由{case.agency}處理，預計 {due:%m/%d %H:%M} 前處理。{said}"
    if status is CaseStatus.CLOSED:
        return f"您的案件 {case.number} 已結案。{said}謝謝您的反映！如果問題仍在，歡迎再次反映或撥打 1999。"
    if status is CaseStatus.REJECTED:
        return f"您的案件 {case.number} 經審核不予受理。{said}如有疑問請撥打 1999 洽詢。"
    raise ValueError(f"citizens are not notified of {status.value}")


def notify_case_filed(
    session: Session,
    case: CaseRow,
    *,
    grace: timedelta = timedelta(0),
    text: str | None = None,
    now: datetime | None = None,
) -> NotificationRow | None:
    """The case number and how to check it, pushed after ``grace`` unless a reply told it first."""
    if not case.conversation_id:
        return None
    now = now or utcnow()
    return notify(
        session,
        case.conversation_id,
        "case_filed",
        Reply(kind="case", text=text or filed_text(case)),
        case_number=case.number,
        dedupe_key=f"case:{case.number}:filed",
        not_before=now + grace,
        now=now,
    )


def notify_case_status(
    session: Session, case: CaseRow, status: CaseStatus, *, public_note: str = "", now: datetime | None = None
) -> NotificationRow | None:
    """Tell the case's conversation it was assigned, closed or rejected (other steps: nothing)."""
    if status not in NOTIFIED_STATUSES or not case.conversation_id:
        return None
    return notify(
        session,
        case.conversation_id,
        f"case_{status.value}",
        Reply(kind="case", text=status_text(case, status, public_note)),
        case_number=case.number,
        dedupe_key=f"case:{case.number}:{status.value}",
        now=now,
    )


def change_case_status(
    session: Session,
    number: str,
    new: CaseStatus,
    *,
    actor: str,
    note: str = "",
    public_note: str = "",
    expected_revision: int | None = None,
    now: datetime | None = None,
) -> CaseRow:
    """Move a case on and enqueue the citizen's notice in the same unit of work.

    Raises ``CaseNotFound``, ``InvalidTransition``, ``ConflictError`` (someone changed the case
    since ``expected_revision``) or ``ValueError`` (a note too long).
    """
    if len(public_note) > MAX_PUBLIC_NOTE_CHARS:
        raise ValueError(f"the note to the citizen is longer than {MAX_PUBLIC_NOTE_CHARS} characters")
    now = now or utcnow()
    row = CaseStore(session).change_status(
        number, new, actor=actor, note=note, expected_revision=expected_revision, now=now
    )
    notify_case_status(session, row, new, public_note=public_note, now=now)
    return row
