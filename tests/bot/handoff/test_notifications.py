"""Case notices are enqueued with the status change that causes them, once, and only for the citizen's
own conversation; bad changes are refused clearly and concurrent ones never lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from bot.cases import CaseStatus, InvalidTransition
from bot.handoff.notifications import change_case_status, notify_case_filed
from bot.settings import get_settings
from bot.store import Database
from bot.store.cases import CaseNotFound, CaseStore, NewCase
from bot.store.errors import ConflictError
from bot.store.outbox import NotificationStore

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


def _file(database: Database, conversation_id: str = "p_a", phone: str = "0912345678") -> str:
    case = NewCase(
        category="street_light",
        description="整排路燈不亮",
        channel="line",
        sender_id=conversation_id,
        location_text="中正路 100 號",
        phone=phone,
        contact_consent=bool(phone),
        conversation_id=conversation_id,
    )
    with database.session() as session:
        return CaseStore(session).file(case, now=T0).number


def _notices(database: Database, number: str) -> list[tuple[str, str]]:
    with database.session() as session:
        return [(r.kind, r.replies[0]["text"]) for r in NotificationStore(session).for_case(number)]


def test_assigned_closed_and_rejected_are_told_in_progress_is_not(database: Database) -> None:
    number = _file(database)
    with database.session() as session:
        change_case_status(session, number, CaseStatus.ASSIGNED, actor="amy", note="派工單 A-17", now=T0)
        change_case_status(session, number, CaseStatus.IN_PROGRESS, actor="amy", now=T0)
        change_case_status(
            session,
            number,
            CaseStatus.CLOSED,
            actor="amy",
            note="內部：換燈泡",
            public_note="已更換燈具",
            now=T0,
        )
    notices = _notices(database, number)
    assert [kind for kind, _ in notices] == ["case_assigned", "case_closed"]
    assigned, closed = notices[0][1], notices[1][1]
    assert number in assigned
    assert "高雄市政府工務局" in assigned
    assert "16:00" in assigned
    assert "已結案" in closed
    assert "已更換燈具" in closed
    assert "派工單" not in assigned + closed, "staff notes stay inside"
    assert "內部" not in closed
    rejected = _file(database)
    with database.session() as session:
        change_case_status(session, rejected, CaseStatus.REJECTED, actor="amy", public_note="非本市轄區")
    ((kind, text),) = _notices(database, rejected)
    assert kind == "case_rejected"
    assert "不予受理" in text
    assert "非本市轄區" in text


def test_cases_without_a_conversation_have_no_one_to_tell(database: Database) -> None:
    number = _file(database, conversation_id="")
    with database.session() as session:
        change_case_status(session, number, CaseStatus.ASSIGNED, actor="amy")
        case = CaseStore(session).get(number)
        assert notify_case_filed(session, case) is None
    assert _notices(database, number) == []


def test_the_filing_notice_says_how_to_check(database: Database) -> None:
    with_phone, without = _file(database, "p_a"), _file(database, "p_b", phone="")
    with database.session() as session:
        store = CaseStore(session)
        notify_case_filed(session, store.get(with_phone))
        notify_case_filed(session, store.get(with_phone))  # once only
        notify_case_filed(session, store.get(without))
    ((_, text),) = _notices(database, with_phone)
    assert with_phone in text
    assert "電話末三碼" in text
    ((_, text),) = _notices(database, without)
    assert "撥打 1999 並提供案件編號" in text


def test_bad_changes_are_refused_clearly_and_nothing_is_enqueued(database: Database) -> None:
    number = _file(database)
    with database.session() as session:
        with pytest.raises(
            InvalidTransition, match="a received case cannot become closed; allowed: assigned, rejected"
        ):
            change_case_status(session, number, CaseStatus.CLOSED, actor="amy")
        with pytest.raises(CaseNotFound):
            change_case_status(session, "260302-9999-0", CaseStatus.ASSIGNED, actor="amy")
        with pytest.raises(ValueError, match="500"):
            change_case_status(session, number, CaseStatus.ASSIGNED, actor="amy", public_note="長" * 501)
        with pytest.raises(ConflictError, match="revision 1, not 7"):
            change_case_status(session, number, CaseStatus.ASSIGNED, actor="amy", expected_revision=7)
    assert _notices(database, number) == []


def test_two_agents_changing_a_case_at_once_one_gets_a_conflict(database: Database) -> None:
    number = _file(database)
    start = threading.Barrier(2)

    def change(args: tuple[str, CaseStatus]) -> str:
        agent, status = args
        start.wait()
        try:
            with database.session() as session:
                change_case_status(session, number, status, actor=agent, expected_revision=1)
        except ConflictError as error:
            return f"conflict: {error}"
        return "changed"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(change, [("amy", CaseStatus.ASSIGNED), ("bob", CaseStatus.REJECTED)]))
    assert sorted(o.split(":")[0] for o in outcomes) == ["changed", "conflict"]
    with database.session() as session:
        events = CaseStore(session).events(number)
        case = CaseStore(session).get(number)
    assert len(events) == 2, "one change, fully recorded; none lost or half-done"
    assert case.revision == 2
    winner = events[-1].to_status
    assert _notices(database, number) == [(f"case_{winner}", _notices(database, number)[0][1])]


def test_the_deadline_is_told_in_handoff_timezone(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT1999_HANDOFF__TIMEZONE", "Asia/Tokyo")
    monkeypatch.setenv("BOT1999_SETTINGS_FILE", "")
    get_settings.cache_clear()
    try:
        number = _file(database)
        with database.session() as session:
            change_case_status(session, number, CaseStatus.ASSIGNED, actor="amy", now=T0)
        ((_, assigned),) = _notices(database, number)
    finally:
        get_settings.cache_clear()
    assert "預計 03/02 17:00 前處理" in assigned, "04:00 UTC + 4 h, in Tokyo"
