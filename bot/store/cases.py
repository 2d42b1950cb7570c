"""The case store: file a case with a fresh number, move it through its statuses, look it up.

Numbers come from a per-day counter bumped with one atomic upsert inside the filing's
transaction, so concurrent filings never share or skip-and-lose a number. Status changes
carry the revision they were made against; a concurrent change is refused, never lost.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.cases import (
    CaseStatus,
    category_by_code,
    check_transition,
    format_case_number,
    normalise_case_number,
)
from bot.store.db import upsert
from bot.store.errors import ConflictError
from bot.store.models import CaseCounterRow, CaseEventRow, CaseRow, utcnow

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "TAIPEI",
    "CaseInputError",
    "CaseNotFound",
    "CaseStore",
    "NewCase",
    "normalise_phone",
]

TAIPEI = ZoneInfo("Asia/Taipei")
MAX_DESCRIPTION_CHARS = 2000
_MOBILE = re.compile(r"^09\d{8}$")
_LANDLINE = re.compile(r"^0[2-8]\d{6,8}$")


class CaseNotFound(LookupError):
    pass


class CaseInputError(ValueError):
    """A field of a new case is unusable; the message says which and why."""


def normalise_phone(text: str) -> str:
    """A Taiwanese mobile or landline number as digits (``+886`` folded to ``0``), or an error."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit() or ch == "+")
    if digits.startswith("+886"):
        digits = "0" + digits[4:]
    digits = digits.replace("+", "")
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise CaseInputError("phone: not a Taiwanese mobile (09xxxxxxxx) or landline (0x-xxxxxxx) number")
    return digits


@dataclass(frozen=True, slots=True)
class NewCase:
    category: str
    description: str
    channel: str
    sender_id: str
    location_text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    photo_ref: str = ""
    phone: str = ""
    contact_consent: bool = False
    conversation_id: str = ""
    origin: str = "citizen"  # or "conversation": the description is a conversation excerpt


def _validated(case: NewCase) -> NewCase:
    category_by_code(case.category)
    description = case.description.strip()
    if not description:
        raise CaseInputError("description: missing or empty")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise CaseInputError(f"description: longer than {MAX_DESCRIPTION_CHARS} characters")
    if not case.location_text.strip() and (case.latitude is None or case.longitude is None):
        raise CaseInputError("location: give a place description or a shared location")
    if case.latitude is not None and not -90 <= case.latitude <= 90:
        raise CaseInputError("location: latitude out of range")
    if case.longitude is not None and not -180 <= case.longitude <= 180:
        raise CaseInputError("location: longitude out of range")
    phone = normalise_phone(case.phone) if case.phone.strip() else ""
    return replace(case, description=description, phone=phone)


class CaseStore:
    """Repository over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _next_sequence(self, day: str) -> int:
        statement = (
            upsert(self.session, CaseCounterRow)
            .values(day=day, last=1)
            .on_conflict_do_update(
                index_elements=[CaseCounterRow.day], set_={"last": CaseCounterRow.last + 1}
            )
            .returning(CaseCounterRow.last)
        )
        return int(self.session.execute(statement).scalar_one())

    def file(self, case: NewCase, *, now: datetime | None = None, actor: str = "citizen") -> CaseRow:
        """Validate and file a case; it gets its number, agency and due time."""
        case = _validated(case)
        category = category_by_code(case.category)
        now = now or utcnow()
        local_day = now.astimezone(TAIPEI).date()
        number = format_case_number(local_day, self._next_sequence(f"{local_day:%y%m%d}"))
        row = CaseRow(
            number=number,
            agency=category.agency,
            status=CaseStatus.RECEIVED.value,
            created_at=now,
            updated_at=now,
            due_at=now + category.target,
            revision=1,
            **asdict(case),
        )
        self.session.add(row)
        self.session.flush()
        self.session.add(
            CaseEventRow(case_id=row.id, at=now, actor=actor, from_status=None, to_status=row.status)
        )
        return row

    def get(self, number: str) -> CaseRow:
        row = self.session.scalar(select(CaseRow).where(CaseRow.number == normalise_case_number(number)))
        if row is None:
            raise CaseNotFound(number)
        return row

    def lookup_for_citizen(self, number: str, phone_last3: str) -> CaseRow | None:
        """The case only when the number and the last 3 digits of its phone both match."""
        digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone_last3) if ch.isdigit())
        try:
            row = self.get(number)
        except CaseNotFound:
            return None
        if len(digits) != 3 or not row.phone or not row.phone.endswith(digits):
            return None
        return row

    def change_status(
        self,
        number: str,
        new: CaseStatus,
        *,
        actor: str,
        note: str = "",
        expected_revision: int | None = None,
        now: datetime | None = None,
    ) -> CaseRow:
        row = self.get(number)
        if expected_revision is not None and row.revision != expected_revision:
            raise ConflictError(f"case {row.number} is at revision {row.revision}, not {expected_revision}")
        current = CaseStatus(row.status)
        check_transition(current, new)
        now = now or utcnow()
        row.status = new.value
        row.updated_at = now
        if new in {CaseStatus.CLOSED, CaseStatus.REJECTED}:
            row.closed_at = now
        number = row.number  # the failed flush below expires the row
        try:
            self.session.flush()
        except StaleDataError:
            raise ConflictError(f"case {number} was changed by someone else meanwhile") from None
        self.session.add(
            CaseEventRow(
                case_id=row.id, at=now, actor=actor, from_status=current.value, to_status=new.value, note=note
            )
        )
        return row

    def events(self, number: str) -> list[CaseEventRow]:
        row = self.get(number)
        return list(
            self.session.scalars(
                select(CaseEventRow).where(CaseEventRow.case_id == row.id).order_by(CaseEventRow.id)
            )
        )

    def overdue(self, *, now: datetime | None = None) -> list[CaseRow]:
        """Open cases past their target time, the most overdue first."""
        now = now or utcnow()
        open_statuses = [CaseStatus.RECEIVED.value, CaseStatus.ASSIGNED.value, CaseStatus.IN_PROGRESS.value]
        query = (
            select(CaseRow)
            .where(CaseRow.status.in_(open_statuses), CaseRow.due_at < now)
            .order_by(CaseRow.due_at)
        )
        return list(self.session.scalars(query))

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(CaseRow)) or 0)
