"""The chat service: every channel's messages go through here.

It asks the dialogue engine (Rasa) and, when that fails or is cooling off after a failure,
the degraded responder — so a citizen never gets silence. Every turn is logged, with
feedback from the feedback buttons attached to the answer it rates.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from starlette.concurrency import run_in_threadpool

from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.engine import DialogueEngine, EngineTurn, EngineUnavailable
from bot.chat.messages import ChatResponse, Incoming, Reply, parse_payload
from bot.privacy import pseudonymise
from bot.store import Database
from bot.store.conversations import ConversationStore
from bot.store.turns import Turn, TurnStore

__all__ = ["ChatService", "SILENCE_FALLBACK"]

log = logging.getLogger(__name__)
SILENCE_FALLBACK = Reply(text="抱歉，我沒有完全理解，可以換個說法再問一次嗎？")


class ChatService:
    def __init__(
        self,
        engine: DialogueEngine,
        fallback: DegradedResponder,
        database: Database,
        *,
        pseudonym_key: str,
        breaker: Breaker | None = None,
    ) -> None:
        self.engine = engine
        self.fallback = fallback
        self.database = database
        self.pseudonym_key = pseudonym_key
        self.breaker = breaker or Breaker()

    def conversation_id(self, message: Incoming) -> str:
        return pseudonymise(message.channel, message.user_id, self.pseudonym_key)

    async def handle(self, message: Incoming) -> ChatResponse:
        started = time.perf_counter()
        conversation_id = self.conversation_id(message)
        turn: EngineTurn | None = None
        if self.breaker.allows():
            try:
                turn = await self.engine.handle(conversation_id, message)
                self.breaker.success()
            except EngineUnavailable as error:
                self.breaker.failure()
                log.warning("dialogue engine unavailable, answering in degraded mode: %s", error)
        degraded = turn is None
        if turn is None:
            turn = await run_in_threadpool(self.fallback.handle, message)
        if not turn.replies:
            turn = replace(turn, replies=[SILENCE_FALLBACK])
        latency_ms = (time.perf_counter() - started) * 1000
        await run_in_threadpool(self._log, conversation_id, message, turn, latency_ms, degraded)
        return ChatResponse(replies=turn.replies, mode="degraded" if degraded else "normal")

    def _log(
        self, conversation_id: str, message: Incoming, turn: EngineTurn, latency_ms: float, degraded: bool
    ) -> None:
        record = Turn(
            conversation_id=conversation_id,
            sender=conversation_id,
            channel=message.channel,
            text=message.text,
            payload=message.payload,
            intent=turn.intent,
            intent_confidence=turn.intent_confidence,
            decision=turn.decision,
            candidates=turn.candidates,
            faq_id=turn.faq_id,
            reply=[reply.text for reply in turn.replies],
            latency_ms=latency_ms,
            degraded=degraded,
        )
        parsed = parse_payload(message.payload) if message.payload else None
        try:
            with self.database.session() as session:
                ConversationStore(session).seen(conversation_id, message.channel, message.user_id)
                store = TurnStore(session)
                if parsed and parsed[0] in {"feedback_good", "feedback_bad"}:
                    store.set_feedback(conversation_id, parsed[0].removeprefix("feedback_"))
                store.log(record)
        except Exception:  # the citizen still gets the reply; the operator gets the error
            log.exception("could not log a turn of conversation %s", conversation_id)
