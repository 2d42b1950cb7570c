"""One harvest of the city FAQ service, and the scheduler that starts them.

A harvest scrapes the service (``knowledge.importers.soweb``) and imports what it got through
the one import path (``bot.store.kb_import``) as source ``soweb``: only the source layer is
written, conflicts with staff's changes go to the review queue, and after a complete scrape
the entries it no longer lists are flagged gone (never deleted). Its counts (new, changed,
unchanged, gone, conflicts, held, errors) are kept on its ``harvest_run`` row.

:class:`Harvester` runs one harvest under the lease (``bot.harvest.runs``); ``tick()`` runs one
when the schedule says it is due or an interrupted one is waiting to resume. The
:class:`HarvestScheduler` calls ``tick()`` every ``poll_seconds`` in the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from bot.harvest.policy import UpstreamPolicy
from bot.harvest.runs import Lease, RunCounts, finish_run, interrupted_run, latest_start, start_run
from bot.schedule import Schedule
from bot.settings import HarvestSettings
from bot.store import Database
from bot.store.faq_layers import flag_gone
from bot.store.kb_import import ImportReport, import_rows
from bot.store.models import FaqSourceRow, HarvestRunRow, utcnow
from knowledge.importers import Row

__all__ = ["HarvestOutcome", "HarvestScheduler", "Harvester", "default_holder"]

log = logging.getLogger(__name__)
ORIGIN = "soweb"


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class HarvestOutcome:
    run: HarvestRunRow
    summary: str  # the scraper's
    report: ImportReport
    complete: bool
    blocked: str = ""  # why the scrape stopped early (the site refused us)


class Harvester:
    """Cheap to build. ``transport``: an httpx transport for the scraper (tests)."""

    def __init__(
        self,
        database: Database,
        settings: HarvestSettings,
        *,
        schedule: Schedule | None = None,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.schedule = schedule
        self.clock = clock
        self.transport = transport
        self.lease = Lease(database, holder or default_holder(), settings.lease_seconds, clock)

    # --- when -------------------------------------------------------------------------------
    def due(self) -> bool:
        with self.database.session() as session:
            return self._due_in(session)

    def waiting(self) -> bool:
        """True when a run was interrupted (still "running", nobody holds the lease)."""
        with self.database.session() as session:
            return interrupted_run(session) is not None and self.lease.expired(session)

    def tick(self) -> HarvestOutcome | None:
        """Run a harvest if one is due or waiting to resume, and this replica gets the lease."""
        if not (self.waiting() or self.due()):
            return None
        return self.run(trigger="schedule", actor="harvest", only_if_due=True)

    # --- how --------------------------------------------------------------------------------
    def run(
        self, *, trigger: str, actor: str, fresh: bool = False, only_if_due: bool = False
    ) -> HarvestOutcome | None:
        """One harvest (or the resumption of an interrupted one); None when another replica
        holds the lease, or (``only_if_due``) when, under the lease, none is due any more."""
        if not self.lease.take():
            return None
        try:
            with self.database.session() as session:
                resumed = interrupted_run(session)
                if resumed is None and only_if_due and not self._due_in(session):
                    return None
                if resumed is not None:
                    resumed.holder = self.lease.holder
                    run_id = resumed.id
                    log.info("resuming harvest run %d (interrupted)", run_id)
                else:
                    run_id = start_run(
                        session, trigger=trigger, actor=actor, holder=self.lease.holder, now=self.clock()
                    ).id
            return self._harvest(run_id, actor, fresh=fresh and resumed is None)
        finally:
            self.lease.release()

    def _due_in(self, session: Session) -> bool:
        if self.schedule is None:
            return False
        last = latest_start(session)
        return last is None or self.schedule.next_after(last) <= self.clock()

    def _harvest(self, run_id: int, actor: str, *, fresh: bool) -> HarvestOutcome:
        from knowledge.importers.soweb import SowebBlocked, SowebScraper

        settings = self.settings
        scraper = SowebScraper(
            settings.base_url, settings.state_dir, rate=settings.rate, transport=self.transport
        )
        if fresh:
            scraper.reset()
        rows: list[Row] = []
        blocked = ""
        steps = 0

        def keep_lease(_step: object) -> None:
            nonlocal steps
            steps += 1
            if steps % 50 == 0:
                self.lease.renew()

        try:
            rows.extend(scraper.scrape(progress=keep_lease))
        except SowebBlocked as error:
            blocked = str(error)
        except (httpx.HTTPError, OSError) as error:
            blocked = f"{type(error).__name__}: {error}"
        complete = scraper.summary.complete and not blocked
        self.lease.renew()
        policy = UpstreamPolicy.of(settings)
        seen: set[str] = set()
        counts = RunCounts()
        with self.database.session() as session:
            report = import_rows(
                session,
                rows,
                actor=actor,
                origin=ORIGIN,
                hold=policy.hold,
                new_status=policy.new_status,
                run_id=run_id,
                seen_ids=seen,
            )
            if complete:
                listed = session.scalars(
                    select(FaqSourceRow.faq_id).where(
                        FaqSourceRow.origin == ORIGIN, FaqSourceRow.gone_at.is_(None)
                    )
                ).all()
                counts.gone = sum(
                    flag_gone(session, faq_id, run_id=run_id) for faq_id in listed if faq_id not in seen
                )
            counts.new, counts.changed, counts.unchanged = report.imported, report.updated, report.unchanged
            counts.conflicts, counts.held, counts.errors = report.conflicts, report.held, len(report.rejected)
            status = "done" if complete else "failed"
            message = blocked or ("" if complete else f"{len(scraper.summary.failed)} 筆未能取得，下次會再試")
            run = finish_run(
                session, run_id, status=status, counts=counts.as_dict(), message=message, now=self.clock()
            )
        log.info("harvest run %d: %s; %s", run_id, scraper.summary, report.summary())
        return HarvestOutcome(run, str(scraper.summary), report, complete, blocked)


class HarvestScheduler:
    """``start()`` in the lifespan, ``await stop()`` at shutdown; ``now()`` asks for a harvest at once."""

    def __init__(self, harvester: Harvester, poll_seconds: float) -> None:
        self.harvester = harvester
        self.poll_seconds = poll_seconds
        self.polls = 0  # ticks finished (the health check shows it: the scheduler is alive)
        self._task: asyncio.Task[None] | None = None
        self._manual: asyncio.Task[HarvestOutcome | None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="harvest-scheduler")

    async def _loop(self) -> None:
        while True:
            try:
                await run_in_threadpool(self.harvester.tick)
            except Exception:
                log.exception("the scheduled harvest failed; trying again at the next poll")
            self.polls += 1
            await asyncio.sleep(self.poll_seconds)

    def harvest_now(self, actor: str) -> bool:
        """Start a harvest in the background; False when one is already running here."""
        if self._manual is not None and not self._manual.done():
            return False
        self._manual = asyncio.get_running_loop().create_task(
            run_in_threadpool(self.harvester.run, trigger="manual", actor=actor)
        )
        return True

    async def stop(self) -> None:
        for task in (self._task, self._manual):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
