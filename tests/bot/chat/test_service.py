"""The chat service with a real store, a scripted engine and the degraded responder."""

import asyncio
import socket
import threading

import pytest
from sqlalchemy import exc

from bench.private_services import PrivatePostgres
from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.engine import EngineTurn, EngineUnavailable
from bot.chat.service import ChatService
from bot.messages import Incoming, Reply, pick_payload
from bot.store import Database
from bot.store.conversations import ChannelEventStore
from bot.store.db import unavailable
from bot.store.handoff import HandoffStore
from bot.store.models import TurnRow
from bot.store.turns import TurnStore
from tests.factories import faq
from tests.fakes.faq_answerer import OverlapAnswerer

RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟"]),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納。", alt_questions=["房屋稅期限"]),
    faq("F-3", question="房屋稅可以刷卡嗎？", answer="可以用信用卡繳。", alt_questions=[]),
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ScriptedEngine:
    """A dialogue engine that is up or down as the test says."""

    def __init__(self) -> None:
        self.up = True
        self.silent = False  # answers with nothing, as Rasa does when an action could not run
        self.calls = 0

    async def handle(self, conversation_id: str, message: Incoming) -> EngineTurn:
        self.calls += 1
        if not self.up:
            raise EngineUnavailable("connection refused")
        if self.silent:
            return EngineTurn([], intent="affirm", intent_confidence=0.9)
        return EngineTurn([Reply(text="Rasa 回覆")], intent="greet", intent_confidence=0.98)


@pytest.fixture
def clock() -> list[float]:
    return [0.0]


@pytest.fixture
def service(database: Database, clock: list[float]) -> tuple[ChatService, ScriptedEngine]:
    engine = ScriptedEngine()
    fallback = DegradedResponder(OverlapAnswerer(RECORDS, answer_at=0.8))
    chat = ChatService(
        engine, fallback, database, pseudonym_key="k", breaker=Breaker(10, clock=lambda: clock[0])
    )
    return chat, engine


def _say(chat: ChatService, **fields: str) -> tuple[list[str], str]:
    response = asyncio.run(chat.handle(Incoming(channel="web", user_id="citizen-1", **fields)))
    return [r.kind for r in response.replies], response.mode


def test_normal_turns_are_logged_with_intent(
    service: tuple[ChatService, ScriptedEngine], database: Database
) -> None:
    chat, _ = service
    assert _say(chat, text="你好") == (["text"], "normal")
    with database.session() as session:
        (turn,) = TurnStore(session).transcript(
            chat.conversation_id(Incoming(channel="web", user_id="citizen-1", text="x"))
        )
    assert (turn.intent, turn.intent_confidence, turn.degraded, turn.channel) == ("greet", 0.98, False, "web")
    assert turn.latency_ms is not None


def test_degraded_mode_answers_and_recovers_by_itself(
    service: tuple[ChatService, ScriptedEngine], database: Database, clock: list[float]
) -> None:
    chat, engine = service
    engine.up = False
    assert _say(chat, text="舊沙發要怎麼丟") == (["notice", "answer", "feedback"], "degraded")
    calls = engine.calls
    assert _say(chat, text="房屋稅") == (["notice", "clarify"], "degraded")
    assert engine.calls == calls, "while cooling off, the engine is not waited on"
    assert _say(chat, payload=pick_payload("F-3")) == (["notice", "answer", "feedback"], "degraded")
    assert _say(chat, payload="/feedback_bad")[1] == "degraded"
    assert _say(chat, text="外面失火了") == (["emergency"], "degraded")
    assert _say(chat, text="今天天氣好嗎 asdf") == (["notice", "abstain"], "degraded")
    engine.up = True
    clock[0] += 11
    assert _say(chat, text="你好") == (["text"], "normal")
    with database.session() as session:
        turns = TurnStore(session).transcript(
            chat.conversation_id(Incoming(channel="web", user_id="citizen-1", text="x"))
        )
    assert [t.decision for t in turns] == ["answer", "clarify", "answer", "", "", "abstain", ""]
    assert [t.degraded for t in turns] == [True] * 6 + [False]
    assert turns[2].feedback == "bad", "feedback rates the answer before it"
    assert turns[1].candidates[0] == "F-2"


def _transcript(chat: ChatService, database: Database) -> list[TurnRow]:
    with database.session() as session:
        return TurnStore(session).transcript(
            chat.conversation_id(Incoming(channel="web", user_id="citizen-1", text="x"))
        )


def test_an_answer_with_nothing_in_it_is_answered_in_degraded_mode(
    service: tuple[ChatService, ScriptedEngine], database: Database
) -> None:
    chat, engine = service
    engine.silent = True  # e.g. the action server died while Rasa ran the case form
    assert _say(chat, payload="/affirm") == (["notice", "handoff"], "degraded")
    assert _say(chat, text="舊沙發要怎麼丟") == (["notice", "answer", "feedback"], "degraded")
    engine.silent = False
    assert _say(chat, text="你好") == (["text"], "normal"), "the next good answer is used at once"
    assert [t.degraded for t in _transcript(chat, database)] == [True, True, False]


def test_a_channel_event_is_marked_handled_with_the_turn_it_was_answered_in(
    service: tuple[ChatService, ScriptedEngine], database: Database
) -> None:
    chat, _ = service
    with database.session() as session:
        assert ChannelEventStore(session).first_time("web", "event-1")
    message = Incoming(channel="web", user_id="citizen-1", text="你好")
    response = asyncio.run(chat.handle(message, event=("web", "event-1")))
    with database.session() as session:
        row = ChannelEventStore(session).get("web", "event-1")
        assert row is not None
        assert row.handled_at is not None
        assert row.response == response.model_dump(mode="json")
    assert len(_transcript(chat, database)) == 1


def test_admit_takes_a_new_event_and_tells_whether_an_agent_holds_the_conversation(
    service: tuple[ChatService, ScriptedEngine], database: Database
) -> None:
    chat, engine = service
    message = Incoming(channel="web", user_id="citizen-1", text="你好")
    assert asyncio.run(chat.admit(message, ("web", "event-1"))) == (True, False)
    assert asyncio.run(chat.admit(message, ("web", "event-1"))) == (False, False), "a redelivery"
    with database.session() as session:
        row = ChannelEventStore(session).get("web", "event-1")
        assert row is not None
        assert row.claimed_at is not None
        assert row.attempts == 1
        HandoffStore(session).take(chat.conversation_id(message), "amy", channel="web")
    assert asyncio.run(chat.admit(message, ("web", "event-2"))) == (True, True)
    response = asyncio.run(chat.handle(message, event=("web", "event-2"), held=True))
    assert response.replies == [], "the agent answers, not the bot"
    assert engine.calls == 0
    assert [t.decision for t in _transcript(chat, database)] == ["agent"]


def test_an_event_answered_by_another_request_meanwhile_is_not_logged_twice(
    service: tuple[ChatService, ScriptedEngine], database: Database
) -> None:
    chat, engine = service
    with database.session() as session:
        assert ChannelEventStore(session).first_time("web", "event-1")
    first = asyncio.run(
        chat.handle(Incoming(channel="web", user_id="citizen-1", text="你好"), event=("web", "event-1"))
    )
    engine.up = False  # the slow first request, answering only now, would answer differently
    late = asyncio.run(
        chat.handle(Incoming(channel="web", user_id="citizen-1", text="你好"), event=("web", "event-1"))
    )
    assert late == first, "the answer that was stored stands"
    assert len(_transcript(chat, database)) == 1


def test_a_turn_that_cannot_be_logged_is_not_answered() -> None:
    away = Database(f"postgresql://postgres@127.0.0.1:{_closed_port()}/none")
    chat = ChatService(
        ScriptedEngine(),
        DegradedResponder(OverlapAnswerer(RECORDS, answer_at=0.8)),
        away,
        pseudonym_key="k",
        log_retry_seconds=0.3,
    )
    with pytest.raises(exc.OperationalError) as error:
        asyncio.run(chat.handle(Incoming(channel="web", user_id="citizen-1", payload="/feedback_good")))
    away.dispose()
    assert unavailable(error.value), "the HTTP route answers 503 and the citizen sends it again"


@pytest.mark.integration
def test_a_database_restart_in_the_middle_of_a_turn_loses_nothing(private_postgres: PrivatePostgres) -> None:
    database = Database(private_postgres.url("postgres"))
    database.migrate()
    chat = ChatService(
        ScriptedEngine(),
        DegradedResponder(OverlapAnswerer(RECORDS, answer_at=0.8)),
        database,
        pseudonym_key="k",
    )
    try:
        assert _say(chat, text="你好") == (["text"], "normal")
        private_postgres.restart()  # every pooled connection is cut
        assert _say(chat, text="你好") == (["text"], "normal")
        private_postgres.stop()
        back = threading.Timer(1.0, private_postgres.start)
        back.start()
        assert _say(chat, text="你好") == (["text"], "normal"), "logged once the server is back"
        back.join()
        assert len(_transcript(chat, database)) == 3
    finally:
        database.dispose()
