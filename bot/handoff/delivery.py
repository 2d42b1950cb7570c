"""The delivery loop: push the outbox through each citizen's channel, retrying until it goes.

Started in the app's lifespan (one per replica; replicas share the work safely, see
``bot.store.outbox``). Each round claims due notifications, pushes them concurrently (one per
conversation per round, so each conversation's notices arrive in order), and records each
outcome: delivered, due again after an exponential backoff with jitter, or — after
``handoff.give_up_hours`` — given up and kept with its last error for the operator.
``wake()`` starts a round at once (an agent's reply need not wait for the poll interval).

Every few seconds the loop also does the takeover's housekeeping: requests nobody took become
cases, conversations held by agents who left go back to the bot, and old web-widget messages
are pruned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from bot.channels.base import Gateways, PushFailed
from bot.handoff.takeover import expire_queue, release_abandoned
from bot.handoff.web import WebGateway
from bot.messages import Reply
from bot.settings import HandoffSettings
from bot.store import Database
from bot.store.conversations import ConversationStore
from bot.store.models import utcnow
from bot.store.outbox import Claimed, NotificationStore, WebOutboxStore

__all__ = ["DeliveryLoop", "DeliveryRound", "backoff", "start_delivery"]

log = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class DeliveryRound:
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.given_up


@dataclass(frozen=True, slots=True)
class _Outcome:
    claim: Claimed
    error: str  # empty: delivered


def backoff(attempts: int, settings: HandoffSettings, *, jitter: float | None = None) -> timedelta:
    """The wait before the next try after ``attempts`` failed ones: base·2^(n−1), capped, ±20 %."""
    seconds = min(settings.retry_base_seconds * 2 ** max(attempts - 1, 0), settings.retry_max_seconds)
    factor = random.uniform(0.8, 1.2) if jitter is None else jitter
    return timedelta(seconds=seconds * factor)


class DeliveryLoop:
    """Cheap to build; ``start()`` in the lifespan, ``await stop()`` at shutdown."""

    def __init__(
        self,
        database: Database,
        gateways: Gateways,
        settings: HandoffSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 50,
    ) -> None:
        self.database = database
        self.gateways = gateways
        self.settings = settings
        self.clock = clock
        self.batch = batch
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._last_housekeeping = 0.0

    @property
    def lease(self) -> timedelta:
        # longer than any push may take (each is cut off at push_timeout_seconds)
        return timedelta(seconds=self.settings.push_timeout_seconds * 3 + 5)

    # --- one round ----------------------------------------------------------------------------

    async def deliver_once(self) -> DeliveryRound:
        claimed = await run_in_threadpool(self._claim)
        if not claimed:
            return DeliveryRound()
        outcomes = await asyncio.gather(*(self._push(item, address) for item, address in claimed))
        return await run_in_threadpool(self._record, list(outcomes))

    async def deliver_all(self, *, max_rounds: int = 100) -> DeliveryRound:
        """Rounds until nothing is due (or ``max_rounds``): the totals."""
        delivered = retrying = given_up = 0
        for _ in range(max_rounds):
            result = await self.deliver_once()
            if not result.handled:
                break
            delivered, retrying, given_up = (
                delivered + result.delivered,
                retrying + result.retrying,
                given_up + result.given_up,
            )
        return DeliveryRound(delivered, retrying, given_up)

    def _claim(self) -> list[tuple[Claimed, tuple[str, str] | None]]:
        with self.database.session() as session:
            claimed = NotificationStore(session).claim(lease=self.lease, limit=self.batch, now=self.clock())
            conversations = ConversationStore(session)
            out: list[tuple[Claimed, tuple[str, str] | None]] = []
            for item in claimed:
                address = conversations.address(item.conversation_id)
                out.append((item, (address.channel, address.address) if address else None))
            return out

    async def _push(self, item: Claimed, address: tuple[str, str] | None) -> _Outcome:
        if address is None:
            return _Outcome(item, "the conversation has no known channel address")
        channel, to = address
        try:
            replies = [Reply.model_validate(reply) for reply in item.replies]
            await asyncio.wait_for(
                self.gateways.push(channel, to, replies), timeout=self.settings.push_timeout_seconds
            )
        except PushFailed as error:
            return _Outcome(item, f"{channel}: {error}")
        except TimeoutError:
            return _Outcome(item, f"{channel}: no answer within {self.settings.push_timeout_seconds:g} s")
        except ValidationError as error:
            return _Outcome(item, f"malformed notification: {error}")
        except Exception as error:  # a gateway bug must not stop the loop; the row is retried
            log.exception("push of notification %s through %s failed unexpectedly", item.id, channel)
            return _Outcome(item, f"{channel}: {type(error).__name__}: {error}")
        return _Outcome(item, "")

    def _record(self, outcomes: list[_Outcome]) -> DeliveryRound:
        now = self.clock()
        give_up_after = timedelta(hours=self.settings.give_up_hours)
        delivered = retrying = given_up = 0
        with self.database.session() as session:
            store = NotificationStore(session)
            for outcome in outcomes:
                item = outcome.claim
                if not outcome.error:
                    if store.delivered(item, now=now):
                        delivered += 1
                    else:
                        log.warning("notification %s was pushed after its lease ran out", item.id)
                    continue
                if now - item.created_at >= give_up_after:
                    store.give_up(item, outcome.error, now=now)
                    given_up += 1
                    log.error(
                        "gave up notification %s to %s after %d attempts: %s",
                        item.id,
                        item.conversation_id,
                        item.attempts + 1,
                        outcome.error,
                    )
                    continue
                store.retry_later(item, outcome.error, at=now + backoff(item.attempts + 1, self.settings))
                retrying += 1
                log.warning(
                    "notification %s not delivered (attempt %d): %s",
                    item.id,
                    item.attempts + 1,
                    outcome.error,
                )
        return DeliveryRound(delivered, retrying, given_up)

    # --- housekeeping -------------------------------------------------------------------------

    def housekeeping(self) -> None:
        """Expire unanswered requests into cases, hand abandoned conversations back, prune the web outbox."""
        now = self.clock()
        with self.database.session() as session:
            expire_queue(session, self.settings, now=now)
        with self.database.session() as session:
            release_abandoned(session, self.settings, now=now)
        with self.database.session() as session:
            WebOutboxStore(session).prune(before=now - timedelta(days=self.settings.web_outbox_days))

    # --- the loop -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Start a round now (call after enqueueing something urgent); safe from any thread."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="notification-delivery")

    async def stop(self) -> None:
        """Finish the round under way (pushes are bounded by their timeout), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=self.settings.push_timeout_seconds + 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - self._last_housekeeping >= HOUSEKEEPING_SECONDS:
                    self._last_housekeeping = loop.time()
                    await run_in_threadpool(self.housekeeping)
                self._wake.clear()
                result = await self.deliver_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be away for a while: keep trying
                log.exception("notification delivery round failed; trying again shortly")
                result = DeliveryRound()
            if result.handled or self._stopping:
                continue  # more may be due right away
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.delivery_poll_seconds)


def start_delivery(app: FastAPI, settings: HandoffSettings, database: Database) -> DeliveryLoop:
    """Register the web widget's gateway beside the channels' and start the loop (in the lifespan).

    Puts the loop on ``app.state.delivery`` (routes call ``wake()`` after enqueueing).
    """
    gateways: Gateways | None = getattr(app.state, "gateways", None)
    if gateways is None:
        gateways = app.state.gateways = Gateways()
    gateways.register(WebGateway(database))
    loop = DeliveryLoop(database, gateways, settings)
    loop.start()
    app.state.delivery = loop
    return loop
