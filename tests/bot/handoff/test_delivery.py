"""The delivery loop over a real store and a channel that fails and recovers: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.channels.base import Gateways
from bot.handoff.delivery import DeliveryLoop, DeliveryRound, backoff
from bot.handoff.notifications import notify
from bot.messages import Reply
from bot.store import Database
from bot.store.outbox import NotificationStore
from tests.bot.handoff.conftest import RecordingGateway, handoff_settings, reachable
from tests.waiting import wait_until_async

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _loop(database: Database, *gateways: RecordingGateway, clock: Clock, **settings: object) -> DeliveryLoop:
    registry = Gateways()
    for gateway in gateways:
        registry.register(gateway)
    return DeliveryLoop(database, registry, handoff_settings(**settings), clock=clock)


def _say(database: Database, conversation_id: str, *texts: str) -> None:
    with database.session() as session:
        for text in texts:
            notify(session, conversation_id, "agent_reply", Reply(kind="agent", text=text), now=T0)


def test_backoff_doubles_up_to_the_cap() -> None:
    settings = handoff_settings(retry_base_seconds=5, retry_max_seconds=60)
    assert [backoff(n, settings, jitter=1.0).total_seconds() for n in (1, 2, 3, 4, 5)] == [5, 10, 20, 40, 60]
    assert 4 <= backoff(1, settings).total_seconds() <= 6


def test_a_channel_down_then_back_loses_nothing_and_sends_nothing_twice(database: Database) -> None:
    line, clock = RecordingGateway("line"), Clock()
    reachable(database, "p_a", "line", "U-a")
    reachable(database, "p_b", "line", "U-b")
    _say(database, "p_a", "一", "二", "三")
    _say(database, "p_b", "甲")
    loop = _loop(database, line, clock=clock)
    line.down = True
    assert asyncio.run(loop.deliver_once()) == DeliveryRound(retrying=2)
    assert asyncio.run(loop.deliver_all()) == DeliveryRound(), "nothing is due while backing off"
    clock.now += timedelta(seconds=2)
    assert asyncio.run(loop.deliver_all()).retrying == 2, "tried again after the backoff"
    line.down = False
    clock.now += timedelta(seconds=60)
    assert asyncio.run(loop.deliver_all()) == DeliveryRound(delivered=4)
    assert line.texts("U-a") == ["一", "二", "三"], "in order"
    assert line.texts("U-b") == ["甲"]
    clock.now += timedelta(hours=1)
    assert asyncio.run(loop.deliver_all()) == DeliveryRound()
    assert len(line.pushed) == 4
    with database.session() as session:
        rows = NotificationStore(session).for_conversation("p_a")
    assert rows[0].attempts == 3
    assert rows[0].last_error == ""
    assert all(row.delivered_at is not None and row.delivered_via == "push" for row in rows)


def test_after_the_give_up_time_a_notice_is_kept_as_failed_and_the_next_goes(database: Database) -> None:
    line, clock = RecordingGateway("line"), Clock()
    reachable(database, "p_a", "line", "U-a")
    _say(database, "p_a", "第一則", "第二則")
    loop = _loop(database, line, clock=clock, give_up_hours=1)
    line.down = True
    asyncio.run(loop.deliver_once())
    clock.now += timedelta(hours=1, seconds=1)
    line.failures_left, line.down = 1, False
    assert asyncio.run(loop.deliver_all()) == DeliveryRound(delivered=1, given_up=1)
    assert line.texts() == ["第二則"]
    with database.session() as session:
        first = NotificationStore(session).for_conversation("p_a")[0]
        assert first.failed_at is not None
        assert "503" in first.last_error
        assert NotificationStore(session).counts().failed == 1


def test_a_channel_that_is_off_hangs_or_has_no_address_is_retried(database: Database) -> None:
    class Hanging(RecordingGateway):
        async def push(self, address: str, replies: list[Reply]) -> None:
            await asyncio.sleep(30)

    clock = Clock()
    reachable(database, "p_tg", "telegram", "42")
    reachable(database, "p_slow", "line", "U-slow")
    _say(database, "p_tg", "tg")
    _say(database, "p_slow", "slow")
    _say(database, "p_gone", "nowhere")  # never wrote through a channel
    loop = _loop(database, Hanging("line"), clock=clock, push_timeout_seconds=0.2)
    assert asyncio.run(loop.deliver_once()) == DeliveryRound(retrying=3)
    with database.session() as session:
        errors = {
            r.conversation_id: r.last_error for r in NotificationStore(session).for_conversation("p_tg")
        }
        errors |= {
            r.conversation_id: r.last_error for r in NotificationStore(session).for_conversation("p_slow")
        }
        errors |= {
            r.conversation_id: r.last_error for r in NotificationStore(session).for_conversation("p_gone")
        }
    assert "telegram" in errors["p_tg"]
    assert "off" in errors["p_tg"]
    assert "no answer within 0.2 s" in errors["p_slow"]
    assert "no known channel address" in errors["p_gone"]


def test_two_replicas_deliver_each_notice_exactly_once_in_order(database: Database) -> None:
    line, clock = RecordingGateway("line"), Clock()
    for n in range(8):
        reachable(database, f"p_{n}", "line", f"U-{n}")
        _say(database, f"p_{n}", *[f"{n}-{k}" for k in range(5)])
    first, second = _loop(database, line, clock=clock), _loop(database, line, clock=clock)

    async def both() -> list[DeliveryRound]:
        return list(await asyncio.gather(first.deliver_all(), second.deliver_all()))

    rounds = asyncio.run(both())
    assert sum(r.delivered for r in rounds) == 40
    assert len(line.pushed) == 40
    for n in range(8):
        assert line.texts(f"U-{n}") == [f"{n}-{k}" for k in range(5)]


def test_the_running_loop_delivers_when_woken(database: Database) -> None:
    line = RecordingGateway("line")
    reachable(database, "p_a", "line", "U-a")
    registry = Gateways()
    registry.register(line)
    # a poll interval no test outlives: after its first round the loop delivers only when woken
    settings = handoff_settings(delivery_poll_seconds=30).model_copy(update={"delivery_poll_seconds": 1e6})
    loop = DeliveryLoop(database, registry, settings)
    rounds: list[DeliveryRound] = []
    deliver_once = loop.deliver_once

    async def counted() -> DeliveryRound:
        result = await deliver_once()
        rounds.append(result)
        return result

    loop.deliver_once = counted  # type: ignore[method-assign]

    async def scenario() -> None:
        loop.start()
        await wait_until_async(lambda: rounds, what="the first round")
        assert rounds == [DeliveryRound()]  # it found nothing and now waits for the next poll or a wake
        _say(database, "p_a", "專員的回覆")
        loop.wake()
        await wait_until_async(lambda: line.pushed, what="the push after the wake")
        await loop.stop()

    asyncio.run(scenario())
    assert line.texts() == ["專員的回覆"]
    assert rounds[1] == DeliveryRound(delivered=1)
