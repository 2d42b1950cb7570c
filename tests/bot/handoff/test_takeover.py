"""Asking for a person, taking, replying, handing back, and nobody waiting forever."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bot.chat.degraded import MESSAGE_FORM_URL
from bot.handoff.takeover import (
    AGENT_GONE_TEXT,
    JOINED_TEXT,
    LEFT_TEXT,
    UNANSWERED,
    Unreachable,
    agent_reply,
    expire_queue,
    human_asker,
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
    assert (first.outcome, first.position) == ("queued", 1)
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
def test_when_nobody_can_come_nothing_is_filed_unasked_and_a_message_is_offered(
    database: Database, when: datetime, present: bool, outcome: str, says: str
) -> None:
    """Issue 25 item 6: no case without the citizen's word and a way to reach them. The request
    is counted (a released handoff, for the dashboard); the citizen hears the hours and how to
    leave a message (which asks for a phone and consent) or to call."""
    reachable(database, "p_a", "telegram")
    _citizen_said(database, "p_a", "我家巷口的水溝一直發臭", "我的電話是 0912345678")
    with database.session() as session:
        if present:
            PresenceStore(session).heartbeat("amy", now=when)
        result = request_human(session, "p_a", channel="telegram", settings=HOURS, reason="水溝", now=when)
    assert result.outcome == outcome
    assert result.offers_message
    assert says in result.text
    assert "「留言請專人回覆」" in result.text
    assert "聯絡電話" in result.text
    assert "案件編號查詢處理進度" in result.text
    assert "1999" in result.text
    with database.session() as session:
        assert CaseStore(session).count() == 0, "nothing filed without asking"
        assert HandoffStore(session).queued() == []
        assert HandoffStore(session).open_for("p_a") is None, "never queued: no agent would come"
        (request,) = HandoffStore(session).history("p_a")
        assert (request.state, request.ended_by, request.channel, request.reason) == (
            "released",
            outcome,
            "telegram",
            "水溝",
        )
        assert request.requested_at == when
    assert _said(database, "p_a") == [], "no notice of a case: there is none"


def test_the_message_left_afterwards_is_noted_on_the_request_it_answers(database: Database) -> None:
    reachable(database, "p_a", "line")
    with database.session() as session:
        request_human(session, "p_a", channel="line", settings=HOURS, now=NIGHT)
        request_human(session, "p_a", channel="line", settings=HOURS, now=NIGHT + timedelta(minutes=1))
        store = HandoffStore(session)
        assert store.attach_case("p_a", "261207-0001-4", UNANSWERED)
        assert not store.attach_case("p_b", "261207-0002-2", UNANSWERED), "no request: nothing noted"
        first, second = sorted(store.history("p_a"), key=lambda row: row.requested_at)
        assert (first.case_number, second.case_number) == ("", "261207-0001-4"), "the latest request"


def test_in_degraded_mode_the_asker_links_the_message_form(database: Database) -> None:
    reachable(database, "p_a", "web")
    ask = human_asker(HOURS)
    with database.session() as session:
        said = ask(session, "p_a", "web")
    # nobody is present, so whatever the hour nobody can come
    assert said.kind == "handoff"
    assert "「留言請專人回覆」" in said.text
    (link,) = said.links
    assert (link.title, link.url) == ("留言請專人回覆", MESSAGE_FORM_URL)
    with database.session() as session:
        assert CaseStore(session).count() == 0


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
