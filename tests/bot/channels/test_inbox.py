"""The inbox on a real store: one citizen's events in order, failures retried without a second turn,
a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Any

from bot.channels.inbox import EventLedger, Inbox
from bot.store import Database
from bot.store.conversations import ChannelEventStore
from tests.waiting import PATIENCE, wait_until_async

Json = dict[str, Any]


class Recorder:
    """A channel handler that records what it did; the turns of a user in ``hold`` wait until
    that user's event is set (or PATIENCE runs out: the recorded order then tells)."""

    def __init__(self, *, fail_deliveries: int = 0) -> None:
        self.hold: dict[str, asyncio.Event] = {}
        self.fail_deliveries = fail_deliveries
        self.turns: list[str] = []
        self.delivered: list[str] = []
        self.log: list[str] = []
        self.sent: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)  # set once delivered

    def conversation_key(self, event: Json) -> str:
        return str(event["user"])

    async def respond(self, event_id: str, event: Json) -> Json | None:
        self.log.append(f"start {event_id}")
        gate = self.hold.get(event["user"])
        if gate is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.wait(), PATIENCE)
        self.turns.append(event_id)
        self.log.append(f"end {event_id}")
        return None if event.get("silent") else {"reply": f"answer to {event_id}"}

    async def deliver(self, event_id: str, event: Json, response: Json) -> None:
        if self.fail_deliveries:
            self.fail_deliveries -= 1
            raise ConnectionError("the platform did not answer")
        self.delivered.append(response["reply"])
        self.sent[event_id].set()


def _handled(database: Database, *event_ids: str) -> bool:
    with database.session() as session:
        store = ChannelEventStore(session)
        rows = [store.get("test", event_id) for event_id in event_ids]
        return all(row is not None and row.handled_at is not None for row in rows)


def test_one_citizens_events_are_answered_in_order_while_others_go_on(database: Database) -> None:
    handler = Recorder()

    async def run() -> None:
        handler.hold["A"] = handler.sent["b1"]  # A's turns wait for B's answer: B must not wait for A
        inbox = Inbox(EventLedger(database, "test"), handler, workers=3)
        inbox.start()
        await inbox.accept([("a1", {"user": "A"}), ("a2", {"user": "A"}), ("b1", {"user": "B"})])
        await wait_until_async(lambda: len(handler.delivered) == 3, what="three answers")
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
        # e2 comes after e1 (one citizen, in order): e1's failed delivery is over when e2 is handled
        await wait_until_async(lambda: _handled(database, "e2"), what="e2 handled")
        first = len(handler.delivered)
        taken_up = await inbox.sweep()
        await wait_until_async(lambda: _handled(database, "e1"), what="e1 handled on its retry")
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
    handler = Recorder()

    async def run() -> None:
        gate = handler.hold["A"] = asyncio.Event()
        inbox = Inbox(EventLedger(database, "test"), handler)
        inbox.start()
        await inbox.accept([("a1", {"user": "A"})])
        await wait_until_async(lambda: "start a1" in handler.log, what="a1 in the middle of its turn")
        stopping = asyncio.create_task(inbox.stop(grace_seconds=PATIENCE))
        await asyncio.sleep(0)  # stop() runs up to waiting for the busy worker
        assert not stopping.done()
        gate.set()  # only now may a1 finish its turn
        await stopping

    asyncio.run(run())
    assert handler.delivered == ["answer to a1"]
    with database.session() as session:
        row = ChannelEventStore(session).get("test", "a1")
        assert row is not None
        assert row.handled_at is not None
