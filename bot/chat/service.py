"""The chat service: every channel's messages go through here.

It asks the dialogue engine (Rasa) and, when that fails or is cooling off after a failure,
the degraded responder — so a citizen never gets silence. Rasa answering with nothing at all
counts as a failure of that turn too: it is what Rasa does when an action could not run (the
action server died or its database was away), and the citizen is better served by the
knowledge base and an honest "limited mode" than by "please say it again".

Every turn is logged, with feedback from the feedback buttons attached to the answer it
rates; a pick from a "did you mean" list and a rating are recorded as confirmed pairings
in the same transaction (``bot.learning.citizens``). A turn is only answered once it is logged: while the database is away the log is
tried again for a few seconds, and if it still fails, ``handle`` raises the database's error
(``bot.store.db.unavailable`` says it is one), which the HTTP routes answer with 503 "please
try again" and the channels' inbox retries — so no answered message (or rating)
goes unrecorded.

While an agent holds the conversation (live takeover, ``bot.handoff``) the bot stays silent:
the message is logged with decision ``agent`` for the agent to read, and nothing is answered —
except an emergency, which still gets the 110/119 redirect at once.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.chat.breaker import Breaker
from bot.chat.degraded import DegradedResponder
from bot.chat.emergency import EMERGENCY_REPLY, looks_like_emergency
from bot.chat.engine import DialogueEngine, EngineTurn, EngineUnavailable
from bot.learning.citizens import after_rating, after_turn
from bot.messages import ChatResponse, Incoming, Reply, parse_payload
from bot.privacy import pseudonymise
from bot.settings import CitizenLearningSettings
from bot.store import Database
from bot.store.conversations import ChannelEventStore, ConversationStore
from bot.store.db import retry_while_unavailable, unavailable
from bot.store.handoff import HandoffStore
from bot.store.outbox import NotificationStore
from bot.store.turns import Turn, TurnStore

__all__ = ["AskHuman", "ChannelEvent", "ChatService", "LOG_RETRY_SECONDS", "SILENCE_FALLBACK"]

log = logging.getLogger(__name__)
_CASE_NUMBER = re.compile(r"\d{6}-\d{4,}-\d")
SILENCE_FALLBACK = Reply(text="抱歉，我沒有完全理解，可以換個說法再問一次嗎？")
LOG_RETRY_SECONDS = 5.0  # a PostgreSQL restart takes about a second
ChannelEvent = tuple[str, str]  # (channel, event id) of a message kept in channel_event
_Finish = tuple[str, str, dict[str, Any]]
# (session, conversation id, channel) -> what to tell the citizen: queue them for a person, or,
# when none can come, the agents' hours and a link to leave a message (nothing filed unasked).
# The app hands in ``bot.handoff.takeover.human_asker(settings)`` (``bot.chat`` sits below
# ``bot.handoff`` and does not import it; docs/architecture.md).
AskHuman = Callable[[Session, str, str], Reply]


class ChatService:
    def __init__(
        self,
        engine: DialogueEngine,
        fallback: DegradedResponder,
        database: Database,
        *,
        pseudonym_key: str,
        breaker: Breaker | None = None,
        ask_human: AskHuman | None = None,
        log_retry_seconds: float = LOG_RETRY_SECONDS,
        citizen_learning: CitizenLearningSettings | None = None,
    ) -> None:
        self.engine = engine
        self.fallback = fallback
        self.database = database
        self.pseudonym_key = pseudonym_key
        self.breaker = breaker or Breaker()
        self.ask_human = ask_human  # None: asking for a person in degraded mode points to the case form
        self.log_retry_seconds = log_retry_seconds
        self.citizen_learning = citizen_learning or CitizenLearningSettings()

    def conversation_id(self, message: Incoming) -> str:
        return pseudonymise(message.channel, message.user_id, self.pseudonym_key)

    async def admit(self, message: Incoming, event: ChannelEvent) -> tuple[bool, bool]:
        """In one transaction: whether ``event`` is new (the caller then holds its lease, as
        with ``EventLedger.accept``) and whether an agent holds the message's conversation
        (for ``handle``'s ``held``). Raises the database's error when it is away."""
        conversation_id = self.conversation_id(message)

        def run() -> tuple[bool, bool]:
            with self.database.session() as session:
                new = ChannelEventStore(session).first_time(*event)
                return new, new and HandoffStore(session).held_by(conversation_id) is not None

        return await run_in_threadpool(run)

    async def handle(
        self, message: Incoming, *, event: ChannelEvent | None = None, held: bool | None = None
    ) -> ChatResponse:
        """Answer ``message``. ``event`` (channel, event id), when the message is a channel event
        in the store (``bot.channels.inbox``), is marked handled with the response in the same
        transaction as the turn log: a retry of it then gets this answer, even if this process
        dies right after. If another request answered the event meanwhile (this one outlived
        its lease), this turn is not logged and that request's answer is returned: each
        event has exactly one turn in the log. ``held``: whether an agent holds the
        conversation, when the caller has just asked (``admit``); None asks here."""
        started = time.perf_counter()
        conversation_id = self.conversation_id(message)
        if held is None:
            held = await run_in_threadpool(self._held_by_agent, conversation_id)
        if held:
            return await self._to_agent(conversation_id, message, started, event)
        turn: EngineTurn | None = None
        if self.breaker.allows():
            try:
                turn = await self.engine.handle(conversation_id, message)
                self.breaker.success()
            except EngineUnavailable as error:
                self.breaker.failure()
                log.warning("dialogue engine unavailable, answering in degraded mode: %s", error)
        if turn is not None and not turn.replies:
            log.warning(
                "the dialogue engine answered conversation %s with nothing (an action failed? see the "
                "action server); answering in degraded mode",
                conversation_id,
            )
            turn = None
        degraded = turn is None
        if turn is None:
            turn = await run_in_threadpool(self.fallback.handle, message)
        if degraded and turn.intent == "ask_human" and self.ask_human is not None:
            turn = await run_in_threadpool(self._ask_human, conversation_id, message, turn)
        if not turn.replies:
            turn = replace(turn, replies=[SILENCE_FALLBACK])
        latency_ms = (time.perf_counter() - started) * 1000
        response = ChatResponse(replies=turn.replies, mode="degraded" if degraded else "normal")
        return await self._record(conversation_id, message, turn, latency_ms, degraded, event, response)

    def _ask_human(self, conversation_id: str, message: Incoming, turn: EngineTurn) -> EngineTurn:
        """Rasa is away, but a person may not be: the same queue (or honest case) as action_handoff."""
        assert self.ask_human is not None
        try:
            with self.database.session() as session:
                ConversationStore(session).seen(conversation_id, message.channel, message.user_id)
                said = self.ask_human(session, conversation_id, message.channel)
        except Exception:  # the degraded answer (the case form) still stands
            log.exception("could not hand conversation %s to a person", conversation_id)
            return turn
        notices = [reply for reply in turn.replies if reply.kind == "notice"]
        return replace(turn, replies=[*notices, said], decision="handoff")

    def _held_by_agent(self, conversation_id: str) -> bool:
        try:
            with self.database.session() as session:
                return HandoffStore(session).held_by(conversation_id) is not None
        except Exception:  # the store is away: the bot answers rather than leave the citizen unanswered
            log.exception("could not check whether an agent holds conversation %s", conversation_id)
            return False

    async def _to_agent(
        self, conversation_id: str, message: Incoming, started: float, event: ChannelEvent | None
    ) -> ChatResponse:
        """An agent holds the conversation: log the message for them; the bot says nothing."""
        emergency = bool(message.text) and looks_like_emergency(message.text)
        turn = EngineTurn(
            [EMERGENCY_REPLY] if emergency else [], intent="emergency" if emergency else "", decision="agent"
        )
        latency_ms = (time.perf_counter() - started) * 1000
        response = ChatResponse(replies=turn.replies)
        return await self._record(conversation_id, message, turn, latency_ms, False, event, response)

    async def _record(
        self,
        conversation_id: str,
        message: Incoming,
        turn: EngineTurn,
        latency_ms: float,
        degraded: bool,
        event: ChannelEvent | None,
        response: ChatResponse,
    ) -> ChatResponse:
        """Log the turn (and finish its event); the response that stands."""
        finish = _finish(event, response)
        try:
            await run_in_threadpool(self._log, conversation_id, message, turn, latency_ms, degraded, finish)
        except _AnsweredElsewhere:
            assert event is not None
            log.warning(
                "a %s message of conversation %s was answered by another request meanwhile; "
                "this turn is not logged and the stored answer stands",
                event[0],
                conversation_id,
            )
            saved = await run_in_threadpool(self._stored_response, event)
            return ChatResponse.model_validate(saved) if saved is not None else response
        return response

    def _stored_response(self, event: ChannelEvent) -> dict[str, Any] | None:
        with self.database.session() as session:
            row = ChannelEventStore(session).get(*event)
            return None if row is None else row.response

    def _log(
        self,
        conversation_id: str,
        message: Incoming,
        turn: EngineTurn,
        latency_ms: float,
        degraded: bool,
        finish: _Finish | None = None,
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

        def write() -> None:
            with self.database.session() as session:
                if finish is not None and not ChannelEventStore(session).finish_first(*finish):
                    raise _AnsweredElsewhere  # rolls this turn back: the event has its one turn
                ConversationStore(session).seen(conversation_id, message.channel, message.user_id)
                store = TurnStore(session)
                if parsed and parsed[0] in {"feedback_good", "feedback_bad"}:
                    value = parsed[0].removeprefix("feedback_")
                    rated = store.set_feedback(conversation_id, value)
                    after_rating(session, rated, value, self.citizen_learning)
                turn_id = store.log(record)
                after_turn(
                    session, turn_id, self.citizen_learning
                )  # a "did you mean" pick confirms a phrasing
                if any(_CASE_NUMBER.search(reply.text) for reply in turn.replies):
                    NotificationStore(session).settle_in_band(conversation_id, record.reply)

        def finish_alone() -> None:
            if finish is not None:
                with self.database.session() as session:
                    ChannelEventStore(session).finish_first(*finish)

        try:
            retry_while_unavailable(write, seconds=self.log_retry_seconds)
        except _AnsweredElsewhere:
            raise
        except Exception as error:
            if unavailable(error):  # not recorded: not answered either; the citizen sends it again
                log.error("could not log a turn of conversation %s: the database is away", conversation_id)
                raise
            # a bug, not an outage: the citizen still gets the reply; the operator gets the error
            log.exception("could not log a turn of conversation %s", conversation_id)
            retry_while_unavailable(finish_alone, seconds=self.log_retry_seconds)


class _AnsweredElsewhere(Exception):
    """The channel event was answered by another request meanwhile (its lease had run out)."""


def _finish(event: ChannelEvent | None, response: ChatResponse) -> _Finish | None:
    """What marks ``event`` handled: (channel, event id, the response as stored)."""
    return None if event is None else (*event, response.model_dump(mode="json"))
