"""The chat service with a real store, a scripted engine and the degraded responder."""

import asyncio

import pytest

from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.engine import EngineTurn, EngineUnavailable
from bot.chat.messages import Incoming, Reply, pick_payload
from bot.chat.service import ChatService
from bot.store import Database
from bot.store.turns import TurnStore
from tests.factories import faq
from tests.fakes.faq_answerer import OverlapAnswerer

RECORDS = [
    faq("F-1", question="大型垃圾要怎麼預約清運？", alt_questions=["舊沙發要怎麼丟"]),
    faq("F-2", question="房屋稅什麼時候繳？", answer="每年五月繳納。", alt_questions=["房屋稅期限"]),
    faq("F-3", question="房屋稅可以刷卡嗎？", answer="可以用信用卡繳。", alt_questions=[]),
]


class ScriptedEngine:
    """A dialogue engine that is up or down as the test says."""

    def __init__(self) -> None:
        self.up = True
        self.calls = 0

    async def handle(self, conversation_id: str, message: Incoming) -> EngineTurn:
        self.calls += 1
        if not self.up:
            raise EngineUnavailable("connection refused")
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
