"""Asking for a person, taking, replying, handing back, and nobody waiting forever."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.cases import is_valid_case_number
from bot.handoff.takeover import (
    AGENT_GONE_TEXT,
    JOINED_TEXT,
    LEFT_TEXT,
    Unreachable,
    agent_reply,
    expire_queue,
    release,
    release_abandoned,
    request_human,
    take,
)
from bot.store import Database
from bot.store.cases import CaseStore
from bot.store.handoff import HandoffConflict, HandoffStore, NotHeld, PresenceStore
from bot.store.models import NotificationRow
from bot.store.outbox import NotificationStore
from bot.store.turns import Turn, TurnStore
from tests.bot.handoff.conftest import handoff_settings, reachable

NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Taipei
NIGHT = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 in Taipei
HOURS = handoff_settings(agent_hours="08:00-22:00", presence_seconds=60, queue_timeout_seconds=300)


def _said(database: Database, conversation_id: str) -> list[tuple[str, str]]:
    with database.session() as session:
        rows: list[NotificationRow] = NotificationStore(session).for_conversation(conversation_id)
        return [(row.kind, row.replies[0]["text"]) for row in rows]


def _citizen_said(database: Database, conversation_id: str, *texts: str) -> None:
    with database.session() as session:
        for text in texts:
            TurnStore(session).log(Turn(conversation_id, conversation_id, "line", text=text, reply=["好的"]))


def test_in_hours_with_an_agent_present_the_citizen_joins_the_queue(database: Database) -> None:
    reachable(database, "p_a", "line")
    with database.session() as session:
        PresenceStore(session).heartbeat("amy", now=NOON)
        first = request_human(session, "p_a", channel="line", settings=HOURS, reason="垃圾車", now=NOON)
        again = request_human(session, "p_a", channel="line", settings=HOURS, now=NOON)
    assert (first.outcome, first.position, first.case_number) == ("queued", 1, "")
    assert "已為您轉接客服專員" in first.text
    assert "第 1 位" in first.text
    assert again.outcome == "waiting"
    with database.session() as session:
        (queued,) = HandoffStore(session).queued()
        assert (queued.conversation_id, queued.channel, queued.reason) == ("p_a", "line", "垃圾車")
        assert CaseStore(session).count() == 0


@pytest.mark.parametrize(
    ("when", "present", "outcome", "says"),
    [
        (NIGHT, True, "out_of_hours", "服務時間是每天 08:00–22:00"),
        (NOON, False, "no_agent", "客服專員都不在線上"),
    ],
    ids=["out-of-hours", "nobody-present"],
)
def test_when_nobody_can_come_a_case_is_filed_with_the_transcript_and_said_honestly(
    database: Database, when: datetime, present: bool, outcome: str, says: str
) -> None:
    reachable(database, "p_a", "telegram")
    _citizen_said(database, "p_a", "我家巷口的水溝一直發臭", "我的電話是 0912345678")
    with database.session() as session:
        if present:
            PresenceStore(session).heartbeat("amy", now=when)
        result = request_human(session, "p_a", channel="telegram", settings=HOURS, now=when)
    assert result.outcome == outcome
    assert says in result.text
    assert result.case_number in result.text
    assert "1999" in result.text
    assert "查詢進度請撥打 1999" in result.text
    assert is_valid_case_number(result.case_number)
    with database.session() as session:
        case = CaseStore(session).get(result.case_number)
        assert (case.category, case.channel, case.conversation_id) == ("general", "telegram", "p_a")
        assert "我家巷口的水溝一直發臭" in case.description
        assert "0912345678" in case.description
        assert HandoffStore(session).queued() == []
    (notice,) = _said(database, "p_a")
    assert notice == ("case_filed", result.text), "pushed if the reply does not reach the citizen"


def test_take_reply_release_tell_the_citizen_each_step(database: Database) -> None:
    reachable(database, "p_a", "line")
    with database.session() as session:
        take(session, "p_a", "amy", settings=HOURS, now=NOON)
        with pytest.raises(HandoffConflict):
            take(session, "p_a", "bob", settings=HOURS, now=NOON)
        agent_reply(session, "p_a", "amy", "  您好，我是客服小美，請問巷口的地址是？ ", now=NOON)
        with pytest.raises(NotHeld):
            agent_reply(session, "p_a", "bob", "我也想回", now=NOON)
        with pytest.raises(ValueError, match="empty"):
            agent_reply(session, "p_a", "amy", "   ", now=NOON)
        with pytest.raises(ValueError, match="1000"):
            agent_reply(session, "p_a", "amy", "長" * 1001, now=NOON)
        release(session, "p_a", "amy", now=NOON)
        with pytest.raises(NotHeld):
            agent_reply(session, "p_a", "amy", "還在嗎", now=NOON)
    assert _said(database, "p_a") == [
        ("agent_joined", JOINED_TEXT),
        ("agent_reply", "您好，我是客服小美，請問巷口的地址是？"),
        ("agent_left", LEFT_TEXT),
    ]


def test_a_conversation_with_no_channel_cannot_be_taken(database: Database) -> None:
    with database.session() as session, pytest.raises(Unreachable):
        take(session, "p_nowhere", "amy", settings=HOURS)


def test_a_request_nobody_takes_becomes_a_case_once_even_with_two_replicas(database: Database) -> None:
    reachable(database, "p_a", "line")
    _citizen_said(database, "p_a", "我要申訴噪音")
    with database.session() as session:
        PresenceStore(session).heartbeat("amy", now=NOON)
        assert request_human(session, "p_a", channel="line", settings=HOURS, now=NOON).outcome == "queued"
    with database.session() as session:
        assert expire_queue(session, HOURS, now=NOON + timedelta(seconds=299)) == []
    later = NOON + timedelta(seconds=301)
    start = threading.Barrier(2)

    def replica(_: int) -> list[str]:
        start.wait()
        with database.session() as session:
            return expire_queue(session, HOURS, now=later)

    with ThreadPoolExecutor(max_workers=2) as pool:
        filed = [n for numbers in pool.map(replica, range(2)) for n in numbers]
    assert len(filed) == 1
    with database.session() as session:
        (handoff,) = HandoffStore(session).history("p_a")
        assert (handoff.state, handoff.ended_by, handoff.case_number) == ("released", "no_agent", filed[0])
        assert CaseStore(session).count() == 1
    ((kind, text),) = _said(database, "p_a")
    assert kind == "case_filed"
    assert filed[0] in text
    assert "5 分鐘內沒有人能接手" in text


def test_an_agent_who_stops_checking_in_hands_the_conversation_back(database: Database) -> None:
    reachable(database, "p_a", "line")
    reachable(database, "p_b", "web")
    with database.session() as session:
        take(session, "p_a", "amy", settings=HOURS, now=NOON)
        take(session, "p_b", "bob", settings=HOURS, now=NOON)
        PresenceStore(session).heartbeat("bob", now=NOON + timedelta(seconds=50))
    with database.session() as session:
        assert release_abandoned(session, HOURS, now=NOON + timedelta(seconds=61)) == ["p_a"]
        assert HandoffStore(session).held_by("p_a") is None
        assert HandoffStore(session).held_by("p_b") == "bob"
    assert _said(database, "p_a")[-1] == ("agent_left", AGENT_GONE_TEXT)
