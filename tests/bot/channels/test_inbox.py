"""The inbox on a real store: one citizen's events in order, failures retried without a second turn,
a graceful stop."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.inbox import EventLedger, Inbox
from bot.store import Database
from bot.store.conversations import ChannelEventStore

Json = dict[str, Any]


class Recorder:
    """A channel handler that records what it did; ``slow`` users take a while per event."""

    def __init__(self, *, slow: set[str] | None = None, fail_deliveries: int = 0) -> None:
        self.slow = slow or set()
        self.fail_deliveries = fail_deliveries
        self.turns: list[str] = []
        self.delivered: list[str] = []
        self.log: list[str] = []

    def conversation_key(self, event: Json) -> str:
        return str(event["user"])

    async def respond(self, event_id: str, event: Json) -> Json | None:
        self.log.append(f"start {event_id}")
        if event["user"] in self.slow:
            await asyncio.sleep(0.3)
        self.turns.append(event_id)
        self.log.append(f"end {event_id}")
        return None if event.get("silent") else {"reply": f"answer to {event_id}"}

    async def deliver(self, event_id: str, event: Json, response: Json) -> None:
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise ConnectionError("the platform did not answer")
        self.delivered.append(response["reply"])


def test_one_citizens_events_are_answered_in_order_while_others_go_on(database: Database) -> None:
    handler = Recorder(slow={"A"})

    async def run() -> None:
        inbox = Inbox(EventLedger(database, "test"), handler, workers=3)
        inbox.start()
        await inbox.accept([("a1", {"user": "A"}), ("a2", {"user": "A"}), ("b1", {"user": "B"})])
        await asyncio.sleep(1.0)
        await inbox.stop()

    asyncio.run(run())
    assert handler.log.index("end a1") < handler.log.index("start a2")  # A's second waits for the first
    assert handler.log.index("end b1") < handler.log.index("end a1")  # B is not held up by A
    assert handler.delivered == ["answer to b1", "answer to a1", "answer to a2"]


def test_a_failed_delivery_is_retried_from_the_stored_answer(database: Database) -> None:
    handler = Recorder(fail_deliveries=1)

    async def run() -> tuple[int, int]:
        inbox = Inbox(EventLedger(database, "test"), handler, sweep_seconds=60)
        inbox.start()
        await inbox.accept([("e1", {"user": "A"}), ("e2", {"user": "A", "silent": True})])
        await asyncio.sleep(0.5)
        first = len(handler.delivered)
        taken_up = await inbox.sweep()
        await asyncio.sleep(0.5)
        await inbox.stop()
        return first, taken_up

    first, taken_up = asyncio.run(run())
    assert (first, taken_up) == (0, 1)
    assert handler.turns == ["e1", "e2"]  # one turn each: the retry sent the stored answer
    assert handler.delivered == ["answer to e1"]
    with database.session() as session:
        store = ChannelEventStore(session)
        for event_id in ("e1", "e2"):
            row = store.get("test", event_id)
            assert row is not None
            assert row.handled_at is not None
            assert row.payload is None


def test_stopping_lets_an_event_in_progress_finish(database: Database) -> None:
    handler = Recorder(slow={"A"})

    async def run() -> None:
        inbox = Inbox(EventLedger(database, "test"), handler)
        inbox.start()
        await inbox.accept([("a1", {"user": "A"})])
        await asyncio.sleep(0.1)  # a1 is in the middle of its turn
        await inbox.stop()

    asyncio.run(run())
    assert handler.delivered == ["answer to a1"]
    with database.session() as session:
        row = ChannelEventStore(session).get("test", "a1")
        assert row is not None
        assert row.handled_at is not None
