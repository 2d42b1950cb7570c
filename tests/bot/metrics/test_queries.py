"""The dashboard's figures on a small hand-made month, through the real stores, on both backends.

March 2026 (Asia/Taipei): four citizens on three channels, answers, a pick, feedback, a
request for a person, repeated unanswered questions, cases on time and late, a handoff; and
turns just outside the month (local midnight) that must not count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cases import CaseStatus
from bot.handoff.takeover import UNANSWERED, expire_queue, request_human
from bot.metrics.queries import (
    Figures,
    Filters,
    breakdown,
    buckets,
    filter_options,
    month_period,
    summary,
    trend,
    unanswered,
    year_period,
)
from bot.metrics.refresh import refresh
from bot.settings import HandoffSettings
from bot.store import Database
from bot.store.cases import CaseStore, NewCase
from bot.store.faqs import FaqStore
from bot.store.handoff import HandoffStore
from bot.store.turns import Turn, TurnStore
from tests.factories import faq

MARCH = Filters(date(2026, 3, 1), date(2026, 3, 31))
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def utc(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _log(store: TurnStore, who: str, channel: str, at: datetime, **fields: object) -> None:
    store.log(Turn(conversation_id=who, sender=who, channel=channel, at=at, **fields))  # type: ignore[arg-type]


@pytest.fixture
def march(database: Database) -> Database:
    with database.session() as session:
        faqs = FaqStore(session)
        faqs.create(faq("F-1"), actor="test")  # 環保與垃圾 / 環境保護局
        faqs.create(
            faq("F-2", question="房屋稅什麼時候繳？", category="稅務", agency="稅捐稽徵處"), actor="test"
        )
        faqs.create(
            faq("F-3", question="房屋稅可以刷卡嗎？", category="稅務", agency="稅捐稽徵處"), actor="test"
        )
    with database.session() as session:
        turns = TurnStore(session)
        # A, web: answered, rated helpful -> successful
        _log(turns, "A", "web", utc(1, 1), text="房屋稅什麼時候繳", intent="faq", decision="answer",
             faq_id="F-2", candidates=["F-2"], latency_ms=100.0)  # fmt: skip
        turns.set_feedback("A", "good")
        _log(
            turns, "A", "web", utc(1, 1, 1), payload="/feedback_good", intent="feedback_good", latency_ms=10.0
        )
        # B, line, 00:30 local on 2 March: clarified, picked, then asks for a person -> not successful
        _log(turns, "B", "line", utc(1, 16, 30), text="房屋稅", intent="faq", decision="clarify",
             candidates=["F-3", "F-2"], latency_ms=200.0)  # fmt: skip
        _log(turns, "B", "line", utc(1, 16, 31), payload='/pick_suggestion{"faq_id": "F-3"}',
             intent="pick_suggestion", decision="answer", faq_id="F-3", candidates=["F-3"], latency_ms=50.0)  # fmt: skip
        _log(turns, "B", "line", utc(1, 16, 32), payload="/ask_human", intent="ask_human", latency_ms=30.0)
        # C, telegram: the same unanswered question twice (the phone number is redacted)
        for minute, text in ((0, "我家的狗走失了 0912345678"), (1, "我家的狗走失了！0912-345-678")):
            _log(turns, "C", "telegram", utc(5, 3, minute), text=text, intent="faq", decision="abstain",
                 latency_ms=300.0 + minute * 10)  # fmt: skip
        # D, web: answered, then the same FAQ retrieved again (a rephrase) -> not successful; rated bad
        _log(turns, "D", "web", utc(10, 2), text="大型垃圾怎麼丟", intent="faq", decision="answer",
             faq_id="F-1", candidates=["F-1"], latency_ms=120.0)  # fmt: skip
        turns.set_feedback("D", "bad")
        _log(
            turns, "D", "web", utc(10, 2, 1), payload="/feedback_bad", intent="feedback_bad", latency_ms=20.0
        )
        _log(turns, "D", "web", utc(10, 2, 2), text="舊沙發要丟哪", intent="faq", decision="clarify",
             candidates=["F-1", "F-2"], latency_ms=130.0)  # fmt: skip
        # outside March by local time: 23:59 on 28 February, 00:00 on 1 April
        _log(turns, "A", "web", utc(28, 15, 59, month=2), text="垃圾車", intent="faq", decision="answer",
             faq_id="F-1", latency_ms=1.0)  # fmt: skip
        _log(
            turns, "E", "web", utc(31, 16, 0), text="垃圾車", intent="faq", decision="abstain", latency_ms=1.0
        )
    with database.session() as session:
        cases = CaseStore(session)
        late = cases.file(_case("road_pothole", "web", "A"), now=utc(3, 1))
        cases.change_status(late.number, CaseStatus.ASSIGNED, actor="t", now=utc(3, 2))
        cases.change_status(late.number, CaseStatus.CLOSED, actor="t", now=utc(3, 6))  # 5 h > 4 h target
        cases.file(_case("noise", "line", "B"), now=utc(20, 1))  # open, due 26 March -> overdue at NOW
        on_time = cases.file(_case("sanitation", "telegram", "C"), now=utc(21, 1))
        cases.change_status(on_time.number, CaseStatus.REJECTED, actor="t", now=utc(21, 5))
        cases.file(_case("road_pothole", "web", "E"), now=utc(31, 16, 0))  # 1 April local
        HandoffStore(session).request("B", channel="line", now=utc(1, 16, 32))
    refresh(database)
    return database


def _case(category: str, channel: str, who: str) -> NewCase:
    return NewCase(category=category, description="路面有洞", channel=channel, sender_id=who,
                   location_text="中正路 1 號", conversation_id=who)  # fmt: skip


def test_the_month_in_figures(march: Database) -> None:
    with march.session() as session:
        figures = summary(session, MARCH, now=NOW)
    assert figures == Figures(
        key="",
        unique_users=4,
        turns=10,
        questions=6,  # A1, B1, C1, C2, D1, D3 (the pick and the buttons are not questions)
        answered=3,  # A1, B1 (picked), D1
        successful=1,  # A1
        clarified=2,
        abstained=2,
        feedback_good=1,
        feedback_bad=1,
        median_latency_ms=110.0,  # 10 20 30 50 [100 120] 130 200 300 310
        handoffs=1,
        cases_filed=3,
        cases_overdue=2,
    )
    assert (figures.answered_rate, figures.success_rate) == (0.5, pytest.approx(1 / 6))
    assert (figures.clarify_rate, figures.abstain_rate, figures.satisfaction) == (1 / 3, 1 / 3, 0.5)


def test_each_filter(march: Database) -> None:
    def get(**filters: str) -> Figures:
        with march.session() as session:
            return summary(session, Filters(MARCH.start, MARCH.end, **filters), now=NOW)

    web = get(channel="web")
    assert (web.unique_users, web.questions, web.answered, web.successful, web.cases_filed, web.handoffs) == (
        2, 3, 2, 1, 1, 0,
    )  # fmt: skip
    line = get(channel="line")
    assert (line.questions, line.answered, line.handoffs, line.cases_filed, line.cases_overdue) == (
        1,
        1,
        1,
        1,
        1,
    )
    tax = get(category="稅務")
    assert (tax.unique_users, tax.questions, tax.answered, tax.successful, tax.handoffs) == (2, 2, 2, 1, 1)
    assert tax.cases_filed == 0
    assert tax.median_latency_ms == 50.0  # A: 100 10; B: 200 50 30
    garbage = get(agency="環境保護局")
    assert (garbage.questions, garbage.answered, garbage.feedback_bad, garbage.cases_filed) == (2, 1, 1, 2)
    pothole_by_name, pothole_by_code = get(category="道路坑洞"), get(category="road_pothole")
    assert pothole_by_name == pothole_by_code
    assert (pothole_by_name.cases_filed, pothole_by_name.cases_overdue, pothole_by_name.questions) == (
        1,
        1,
        0,
    )
    unattributed = get(channel="telegram")
    assert (unattributed.questions, unattributed.abstained, unattributed.cases_filed) == (2, 2, 1)
    assert get(channel="web", category="稅務").questions == 1
    assert get(channel="sms") == Figures()


def test_local_days_and_months(march: Database) -> None:
    with march.session() as session:
        days = trend(session, MARCH, "day", now=NOW)
        months = trend(session, Filters(date(2026, 2, 1), date(2026, 4, 30)), "month", now=NOW)
    assert [d.key for d in days] == buckets(MARCH, "day")
    assert len(days) == 31
    by_day = {d.key: d for d in days if d.turns or d.cases_filed}
    assert sorted(by_day) == [
        "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-05", "2026-03-10", "2026-03-20", "2026-03-21",
    ]  # fmt: skip
    assert (by_day["2026-03-01"].questions, by_day["2026-03-02"].questions) == (1, 1)
    assert by_day["2026-03-02"].handoffs == 1
    assert by_day["2026-03-05"].unique_users == 1
    assert by_day["2026-03-05"].questions == 2
    assert [(m.key, m.questions, m.cases_filed) for m in months] == [
        ("2026-02", 1, 0),
        ("2026-03", 6, 3),
        ("2026-04", 1, 1),
    ]
    assert months[1].unique_users == 4


def test_breakdowns(march: Database) -> None:
    with march.session() as session:
        channels = breakdown(session, MARCH, "channel", now=NOW)
        categories = breakdown(session, MARCH, "category", now=NOW)
        agencies = breakdown(session, MARCH, "agency", now=NOW)
    assert [(c.key, c.questions, c.unique_users) for c in channels] == [
        ("web", 3, 2), ("telegram", 2, 1), ("line", 1, 1),
    ]  # fmt: skip
    assert {c.key: (c.questions, c.cases_filed) for c in categories} == {
        "稅務": (2, 0), "環保與垃圾": (2, 0), "": (2, 0),
        "道路坑洞": (0, 1), "噪音陳情": (0, 1), "環境清潔": (0, 1),
    }  # fmt: skip
    assert {a.key: (a.questions, a.cases_filed, a.handoffs) for a in agencies} == {
        "高雄市稅捐稽徵處": (2, 0, 1), "高雄市政府環境保護局": (2, 2, 0), "": (2, 0, 0), "高雄市政府工務局": (0, 1, 0),
    }  # fmt: skip


def test_top_unanswered_questions_are_grouped_and_redacted(march: Database) -> None:
    with march.session() as session:
        top = unanswered(session, MARCH)
        only_web = unanswered(session, Filters(MARCH.start, MARCH.end, channel="web"))
    assert [(q.key, q.count, q.abstained, q.senders) for q in top] == [
        ("我家的狗走失了phone", 2, 2, 1),
        ("舊沙發要丟哪", 1, 0, 1),
    ]
    assert "0912" not in top[0].text
    assert "[phone]" in top[0].text
    assert [q.key for q in only_web] == ["舊沙發要丟哪"]


def test_filter_options(march: Database) -> None:
    with march.session() as session:
        options = filter_options(session)
    assert options.channels == ["line", "telegram", "web"]
    assert options.faq_categories == sorted(["稅務", "環保與垃圾"])
    assert options.case_categories == sorted(["道路坑洞", "噪音陳情", "環境清潔"])
    assert "高雄市稅捐稽徵處" in options.agencies
    assert "高雄市政府工務局" in options.agencies
    assert "稅捐稽徵處" not in options.agencies, "one agency, one name"
    assert "工務局養護工程處" not in options.agencies, "one agency, one name"


def test_periods() -> None:
    assert month_period(2026, 2) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_period(2024, 12) == (date(2024, 12, 1), date(2024, 12, 31))
    assert year_period(2026) == (date(2026, 1, 1), date(2026, 12, 31))
    assert buckets(Filters(date(2025, 11, 30), date(2026, 1, 1)), "month") == [
        "2025-11",
        "2025-12",
        "2026-01",
    ]
    assert Filters(date(2026, 3, 1), date(2026, 3, 1)).utc_range == (utc(28, 16, month=2), utc(1, 16))
    with pytest.raises(ValueError, match="ends before"):
        Filters(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValueError, match="longer than"):
        Filters(date(2000, 1, 1), date(2026, 1, 1))


def test_an_empty_period(database: Database) -> None:
    refresh(database)
    with database.session() as session:
        assert summary(session, MARCH) == Figures()
        assert all(f == Figures(f.key) for f in trend(session, MARCH, "month"))
        assert breakdown(session, MARCH, "channel") == []
        assert unanswered(session, MARCH) == []
    assert Figures().success_rate is None
    assert Figures().satisfaction is None


def test_later_turns_change_earlier_outcomes(march: Database) -> None:
    """A's March answer was successful; a bad rating and a request for a person now undo it."""
    with march.session() as session:
        turns = TurnStore(session)
        _log(turns, "A", "web", utc(1, 1, 2), payload="/ask_human", intent="ask_human", latency_ms=5.0)
    result = refresh(march)
    assert (result.conversations, result.turns, result.changed) == (1, 4, 2)  # all of A's derived; 2 new
    with march.session() as session:
        figures = summary(session, MARCH, now=NOW)
    assert (figures.successful, figures.turns) == (0, 11)
    assert refresh(march).conversations == 0


def test_a_late_committed_turn_is_not_missed(march: Database) -> None:
    """A turn whose id is below the last one seen (a transaction that committed late) is found by time."""
    with march.session() as session:
        _log(
            TurnStore(session),
            "F",
            "web",
            datetime.now(UTC),
            text="晚到的問題",
            intent="faq",
            decision="abstain",
        )
    refresh(march)
    with march.session() as session:
        from sqlalchemy import delete

        from bot.store.models import MetricTurnRow

        session.execute(delete(MetricTurnRow).where(MetricTurnRow.conversation_id == "F"))
    assert refresh(march).conversations == 1  # its id is not new, but it has no metric row


def test_full_refresh_is_idempotent(march: Database) -> None:
    with march.session() as session:
        before = summary(session, MARCH, now=NOW)
    again = refresh(march, full=True)
    assert again.turns == 12
    with march.session() as session:
        assert summary(session, MARCH, now=NOW) == before


def test_metrics_outlive_deleted_turns(march: Database) -> None:
    from sqlalchemy import delete

    from bot.store.models import TurnRow

    with march.session() as session:
        session.execute(delete(TurnRow).where(TurnRow.conversation_id == "C"))
    refresh(march, full=True)
    with march.session() as session:
        assert summary(session, MARCH, now=NOW).abstained == 2


def test_a_day_after_now_has_no_overdue_cases_yet(march: Database) -> None:
    early = utc(20, 2)
    with march.session() as session:
        figures = summary(session, Filters(date(2026, 3, 20), date(2026, 3, 20)), now=early)
    assert (figures.cases_filed, figures.cases_overdue) == (1, 0)


def test_a_limited_refresh_goes_on_where_it_stopped(database: Database) -> None:
    with database.session() as session:
        turns = TurnStore(session)
        for who in ("X", "Y", "Z"):
            _log(turns, who, "web", utc(2, 1), text="問題", intent="faq", decision="abstain", latency_ms=5.0)
    first = refresh(database, limit=2)
    assert (first.conversations, first.pending, first.last_turn_id) == (2, 1, 0)  # the mark stays
    with database.session() as session:
        assert summary(session, MARCH).questions == 2
    second = refresh(database, limit=2)
    assert (second.conversations, second.pending, second.last_turn_id) == (1, 0, 3)
    with database.session() as session:
        assert summary(session, MARCH).questions == 3
    assert refresh(database).conversations == 0


def test_the_refresh_command(database_url: str, database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        _log(TurnStore(session), "X", "web", utc(2, 1), text="問題", intent="faq", decision="abstain")
    env = {**os.environ, "BOT1999_DATABASE_URL": database_url, "BOT1999_SETTINGS_FILE": ""}
    done = subprocess.run(
        [sys.executable, "-m", "bot.metrics.refresh"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert "1 conversations, 1 turns derived (1 changed)" in done.stdout
    with database.session() as session:
        assert summary(session, MARCH).questions == 1


def test_requests_for_a_person_nobody_could_take_are_handoff_requests(march: Database) -> None:
    """Out of hours (or with nobody on line) a request files nothing by itself (issue 25 item 6)
    but counts (item 16): a released handoff row. A message the citizen then leaves is a case
    linked to that row, and a queued request that timed out has a row and a case: each counts once."""
    settings = HandoffSettings(agent_hours="09:00-17:00")
    with march.session() as session:
        # F asks for a person at 23:00 local on 12 March: out of hours, then leaves a message
        TurnStore(session).log(Turn(conversation_id="F", sender="F", channel="web", at=utc(12, 15),
                                    text="路燈壞了", intent="faq", decision="abstain"))  # fmt: skip
        asked = request_human(session, "F", channel="web", settings=settings, now=utc(12, 15, 1))
        assert asked.outcome == "out_of_hours"
        message = CaseStore(session).file(
            NewCase("general", "請專人回電", "web", "F", location_text="未提供", conversation_id="F",
                    origin="conversation"),
            now=utc(12, 15, 3),
        )  # fmt: skip
        assert HandoffStore(session).attach_case("F", message.number, UNANSWERED)
        # G asks at 10:00 local on 13 March: in hours, but no agent is on line; leaves no message
        assert (
            request_human(session, "G", channel="web", settings=settings, now=utc(13, 2)).outcome
            == "no_agent"
        )
        assert len(expire_queue(session, settings, now=utc(13, 3))) == 1  # B's request of 1 March
    refresh(march)
    with march.session() as session:
        figures = summary(session, MARCH, now=NOW)
        days = {f.key: f.handoffs for f in trend(session, MARCH, "day", now=NOW) if f.handoffs}
    # B's request of 1 March (queued, a handoff row) timed out at expire_queue and became a case;
    # F's message is a case counted as filed, its request once; G's request counts, no case
    assert (figures.handoffs, figures.cases_filed) == (3, 5)
    assert days == {"2026-03-02": 1, "2026-03-12": 1, "2026-03-13": 1}


def test_one_agency_is_one_row_whatever_name_it_came_under(database: Database) -> None:
    with database.session() as session:
        FaqStore(session).create(faq("F-1", agency="高雄市政府環境保護局"), actor="test")
        turns = TurnStore(session)
        # a turn the chat recorded with the short name, one answered by the FAQ, and a case
        _log(turns, "A", "web", utc(2, 3), text="垃圾車幾點來", intent="faq", decision="answer",
             category="環保與垃圾", agency="環保局", latency_ms=10.0)  # fmt: skip
        _log(turns, "B", "web", utc(2, 4), text="垃圾怎麼丟", intent="faq", decision="answer",
             faq_id="F-1", candidates=["F-1"], latency_ms=10.0)  # fmt: skip
        CaseStore(session).file(
            NewCase("sanitation", "巷口垃圾堆積", "web", "s", location_text="中正路口"), now=utc(2, 5)
        )
    refresh(database, now=NOW)
    with database.session() as session:
        rows = breakdown(session, MARCH, "agency", now=NOW)
        by_alias = summary(session, Filters(MARCH.start, MARCH.end, agency="環保局"), now=NOW)
        options = filter_options(session)
    assert [(r.key, r.questions, r.unique_users, r.cases_filed) for r in rows] == [
        ("高雄市政府環境保護局", 2, 2, 1)
    ]
    assert (by_alias.questions, by_alias.cases_filed) == (2, 1), "a filter by any name of the agency"
    assert options.agencies == ["高雄市政府環境保護局"]
