"""One column type for points in time: aware and in UTC on the way out, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc, func, select

from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.models import CaseEventRow, CaseRow

TAIPEI_OFFSET = timezone(timedelta(hours=8))
CASE = NewCase(
    category="street_light",
    description="巷口路燈不亮",
    channel="web",
    sender_id="s-1",
    location_text="中正路",
    phone="0912345678",
)


def test_times_come_back_aware_and_in_utc(database: Database) -> None:
    filed_at = datetime(2026, 12, 7, 7, 23, tzinfo=TAIPEI_OFFSET)  # 2026-12-06 23:23 UTC
    with database.session() as session:
        number = CaseStore(session).file(CASE, now=filed_at).number
    with database.session() as session:
        row = session.execute(select(CaseRow).where(CaseRow.number == number)).scalar_one()
        for value in (row.created_at, row.updated_at, row.due_at):
            assert value.tzinfo is UTC
        assert row.created_at == filed_at
        assert (row.created_at.hour, row.created_at.minute) == (23, 23)
        # columns selected on their own, and aggregates of them, are typed the same way
        latest = session.execute(select(func.max(CaseEventRow.at))).scalar_one()
        assert latest is not None
        assert latest.tzinfo is UTC
        created = session.execute(select(CaseRow.created_at)).scalar_one()
        assert created.tzinfo is UTC
        assert created == filed_at


def test_a_naive_time_is_refused(database: Database) -> None:
    with pytest.raises(exc.StatementError, match="naive datetime"), database.session() as session:
        CaseStore(session).file(CASE, now=datetime(2026, 12, 7, 7, 23))  # noqa: DTZ001 - the point
