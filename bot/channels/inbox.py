"""Channel events: accepted once, kept in the store, answered in the background, never lost.

A webhook verifies the request, hands its events to ``Inbox.accept`` and answers at once (LINE
and Telegram want a quick 200). ``accept`` writes each new event to the store before the
webhook answers — a redelivered event is recognised there and dropped — and queues it.
Workers then answer each event in two steps, each recorded: ``respond`` (the conversation
turn; its replies are stored) and ``deliver`` (sending them). An event whose processing was
interrupted (a crash, a failed send) is claimed again by the sweeper once its lease runs
out, and only delivered again if its turn had already been taken. Events of one citizen are
processed one after another, in the order they arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool

from bot.store import Database
from bot.store.conversations import ChannelEventStore

__all__ = ["ChannelHandler", "EventLedger", "Inbox"]

log = logging.getLogger(__name__)
Json = dict[str, Any]


class EventLedger:
    """One channel's events in the store, for async callers.

    A failed event is released and tried again at the next sweep (every 15 s by default), up
    to ``max_attempts`` times (about an hour): long enough to ride out a platform's outage.
    """

    def __init__(
        self, database: Database, channel: str, *, lease_seconds: float = 60.0, max_attempts: int = 240
    ) -> None:
        self.database = database
        self.channel = channel
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts

    async def accept(self, event_id: str, payload: Json | None = None) -> bool:
        """True if the event is new (the caller now holds its lease); False for a redelivery."""

        def run() -> bool:
            with self.database.session() as session:
                return ChannelEventStore(session).first_time(self.channel, event_id, payload)

        return await run_in_threadpool(run)

    async def claim(self, event_id: str) -> bool:
        def run() -> bool:
            with self.database.session() as session:
                return ChannelEventStore(session).claim(
                    self.channel, event_id, lease_seconds=self.lease_seconds
                )

        return await run_in_threadpool(run)

    async def state(self, event_id: str) -> tuple[bool, Json | None, int]:
        """(handled, the stored response if any, attempts so far)."""

        def run() -> tuple[bool, Json | None, int]:
            with self.database.session() as session:
                row = ChannelEventStore(session).get(self.channel, event_id)
                if row is None:
                    return False, None, 0
                return row.handled_at is not None, row.response, row.attempts

        return await run_in_threadpool(run)

    async def record_response(self, event_id: str, response: Json) -> None:
        """Keep the replies of a turn before sending them (a retry sends, without a second turn)."""

        def run() -> None:
            with self.database.session() as session:
                row = ChannelEventStore(session).get(self.channel, event_id)
                if row is not None:
                    row.response = response

        await run_in_threadpool(run)

    async def finish(self, event_id: str, response: Json | None = None) -> None:
        def run() -> None:
            with self.database.session() as session:
                ChannelEventStore(session).finish(self.channel, event_id, response)

        await run_in_threadpool(run)

    async def release(self, event_id: str) -> None:
        def run() -> None:
            with self.database.session() as session:
                ChannelEventStore(session).release(self.channel, event_id)

        await run_in_threadpool(run)

    async def unhandled(self) -> list[tuple[str, Json]]:
        def run() -> list[tuple[str, Json]]:
            with self.database.session() as session:
                return ChannelEventStore(session).unhandled(
                    self.channel, lease_seconds=self.lease_seconds, max_attempts=self.max_attempts
                )

        return await run_in_threadpool(run)


class ChannelHandler(Protocol):
    """What a channel does with one of its events."""

    def conversation_key(self, event: Json) -> str:
        """Events with the same key are processed in order, one at a time."""
        ...

    async def respond(self, event_id: str, event: Json) -> Json | None:
        """Take the conversation turn; return what to send (JSON), or None if nothing is sent."""
        ...

    async def deliver(self, event_id: str, event: Json, response: Json) -> None:
        """Send ``response``; raise if it could not be sent (the event is tried again)."""
        ...


class Inbox:
    def __init__(
        self,
        ledger: EventLedger,
        handler: ChannelHandler,
        *,
        workers: int = 4,
        sweep_seconds: float = 15.0,
    ) -> None:
        self.ledger = ledger
        self.handler = handler
        self.workers = workers
        self.sweep_seconds = sweep_seconds
        self._queue: asyncio.Queue[tuple[str, Json]] = asyncio.Queue()
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[Any]] = set()  # in the middle of an event or a sweep
        self._stopping = False

    async def accept(self, events: list[tuple[str, Json]]) -> list[str]:
        """Store and queue the new events among ``events`` ((event id, raw event)); their ids."""
        accepted = []
        for event_id, event in events:
            if await self.ledger.accept(event_id, event):
                self._queue.put_nowait((event_id, event))
                accepted.append(event_id)
            else:
                log.info(
                    "%s event %s was delivered again: already handled, ignored", self.ledger.channel, event_id
                )
        return accepted

    def start(self) -> None:
        if self._tasks:
            return
        name = self.ledger.channel
        self._tasks = [
            asyncio.create_task(self._work(), name=f"{name}-inbox-{n}") for n in range(self.workers)
        ]
        self._tasks.append(asyncio.create_task(self._sweep(), name=f"{name}-inbox-sweeper"))

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Stop the workers; events not yet handled stay in the store for the next start.

        Idle workers stop at once; one in the middle of an event finishes it first (for up to
        ``grace_seconds``), so no store operation is cut off halfway.
        """
        self._stopping = True
        busy = [task for task in self._tasks if task in self._busy]
        for task in self._tasks:
            if task not in self._busy:
                task.cancel()
        if busy:
            _, late = await asyncio.wait(busy, timeout=grace_seconds)
            for task in late:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._stopping = False

    async def sweep(self) -> int:
        """Claim and queue events left unhandled (interrupted or failed); how many."""
        claimed = 0
        for event_id, event in await self.ledger.unhandled():
            if await self.ledger.claim(event_id):
                self._queue.put_nowait((event_id, event))
                claimed += 1
        if claimed:
            log.info("%s: %d unhandled event(s) taken up again", self.ledger.channel, claimed)
        return claimed

    async def _sweep(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping:
            self._busy.add(task)
            try:
                await self.sweep()
            except Exception:
                log.exception("%s: could not look for unhandled events", self.ledger.channel)
            finally:
                self._busy.discard(task)
            if not self._stopping:
                await asyncio.sleep(self.sweep_seconds)

    async def _work(self) -> None:
        task = asyncio.current_task()
        assert task is not None
        while not self._stopping:
            event_id, event = await self._queue.get()
            self._busy.add(task)
            try:
                key = self._key(event)
                self._users[key] += 1
                lock = self._locks.setdefault(key, asyncio.Lock())
                try:
                    async with lock:
                        await self._process(event_id, event)
                finally:
                    self._users[key] -= 1
                    if not self._users[key]:
                        del self._users[key], self._locks[key]
            finally:
                self._busy.discard(task)
                self._queue.task_done()

    def _key(self, event: Json) -> str:
        try:
            return self.handler.conversation_key(event)
        except Exception:
            return ""

    async def _process(self, event_id: str, event: Json) -> None:
        channel = self.ledger.channel
        attempts = 0
        try:
            handled, response, attempts = await self.ledger.state(event_id)
            if handled:
                return  # queued twice (taken up again while still waiting here): done already
            if response is None:
                response = await self.handler.respond(event_id, event)
                if response is None:
                    await self.ledger.finish(event_id)
                    return
                await self.ledger.record_response(event_id, response)
            await self.handler.deliver(event_id, event, response)
            await self.ledger.finish(event_id, response)
        except asyncio.CancelledError:
            raise
        except Exception:
            give_up = attempts >= self.ledger.max_attempts
            report = log.exception if attempts <= 1 or give_up else log.warning  # one traceback, then a line
            report(
                "%s event %s failed (attempt %d of %d)%s",
                channel,
                event_id,
                attempts,
                self.ledger.max_attempts,
                "; giving up: it stays in channel_event, unhandled"
                if give_up
                else "; it will be tried again",
            )
            try:
                await self.ledger.release(event_id)
            except Exception:
                log.exception("%s event %s: could not release it", channel, event_id)
