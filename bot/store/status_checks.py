"""Status checks that cannot be guessed: a case number and the last 3 digits of its phone, with a
lock-out per case number.

Three digits are a thousand possibilities, so the store counts the wrong answers for each case
number — whoever sends them, over whatever channel or address — and after
``max_failures`` of them within ``window`` refuses that number's checks for ``lockout``, even
with the right digits. A number that does not exist is counted the same way (the answer never
says whether a case exists). The count lives in the database (``status_check``), so every
replica and the action server share it, and the first statement of a check locks that number's
row until the check is committed: two checks of one number never both pass a count.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import and_, delete, or_
from sqlalchemy.orm import Session

from bot.cases import normalise_case_number
from bot.store.cases import CaseStore
from bot.store.db import upsert
from bot.store.models import CaseRow, StatusCheckRow, utcnow

__all__ = ["LockoutPolicy", "Outcome", "StatusCheck", "StatusChecks"]


class LockoutPolicy(Protocol):
    """When a case number is locked out (``bot.settings.StatusCheckSettings`` is one)."""

    @property
    def max_failures(self) -> int: ...

    @property
    def window_minutes(self) -> float: ...

    @property
    def lockout_minutes(self) -> float: ...


class Outcome(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # no such case, or the wrong digits: one answer for both
    LOCKED = "locked"  # too many wrong answers for this number lately


@dataclass(frozen=True, slots=True)
class StatusCheck:
    outcome: Outcome
    case: CaseRow | None = None
    locked_until: datetime | None = None


class StatusChecks:
    """Repository over one session; the caller owns the transaction (commit right after a check)."""

    def __init__(self, session: Session, policy: LockoutPolicy) -> None:
        self.session = session
        self.policy = policy

    def _locked_row(self, number: str) -> StatusCheckRow:
        statement = (
            upsert(self.session, StatusCheckRow)
            .values(case_number=number, failures=0)
            .on_conflict_do_update(
                index_elements=[StatusCheckRow.case_number], set_={"failures": StatusCheckRow.failures}
            )
        )
        self.session.execute(statement)  # holds the row (PostgreSQL) or the database (SQLite)
        row = self.session.get(StatusCheckRow, number, populate_existing=True)
        assert row is not None
        return row

    def check(self, number: str, phone_last3: str, *, now: datetime | None = None) -> StatusCheck:
        """The case, if ``phone_last3`` are the last 3 digits of its phone and its number is not
        locked out; otherwise why not (``NOT_FOUND`` never says which of number and digits was wrong)."""
        now = now or utcnow()
        key = normalise_case_number(unicodedata.normalize("NFKC", number))[:40]
        row = self._locked_row(key)
        if row.locked_until is not None and now < row.locked_until:
            return StatusCheck(Outcome.LOCKED, locked_until=row.locked_until)
        window = timedelta(minutes=self.policy.window_minutes)
        if row.first_failure_at is None or now - row.first_failure_at >= window:
            row.failures, row.first_failure_at, row.locked_until = 0, None, None
        case = CaseStore(self.session).lookup_for_citizen(key, phone_last3)
        if case is not None:
            self.session.delete(row)
            return StatusCheck(Outcome.FOUND, case=case)
        row.failures += 1
        row.first_failure_at = row.first_failure_at or now
        if row.failures >= self.policy.max_failures:
            until = now + timedelta(minutes=self.policy.lockout_minutes)
            row.failures, row.first_failure_at, row.locked_until = 0, None, until
            return StatusCheck(Outcome.LOCKED, locked_until=until)
        return StatusCheck(Outcome.NOT_FOUND)

    def forget_stale(self, *, now: datetime | None = None) -> int:
        """Delete the counts that no longer matter (no lock in force, no failure in the window)."""
        now = now or utcnow()
        since = now - timedelta(minutes=self.policy.window_minutes)
        stale = and_(
            or_(StatusCheckRow.locked_until.is_(None), StatusCheckRow.locked_until <= now),
            or_(StatusCheckRow.first_failure_at.is_(None), StatusCheckRow.first_failure_at < since),
        )
        result = self.session.execute(delete(StatusCheckRow).where(stale))
        return int(getattr(result, "rowcount", 0) or 0)
