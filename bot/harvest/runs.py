"""Harvest runs and the lease that lets one replica harvest at a time.

The lease is one ``harvest_lease`` row: a replica takes it with a conditional ``UPDATE`` (free,
expired, or already its own), which PostgreSQL's row lock and SQLite's single writer make
atomic: of two replicas asking at once, exactly one gets it. A run is a ``harvest_run`` row,
"running" until it ends "done" or "failed"; a run still "running" whose lease has expired was
interrupted (its replica crashed) and is resumed by the next replica that takes the lease (the
scraper resumes from its state folder, the import is one transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store import Database
from bot.store.db import upsert
from bot.store.models import HarvestLeaseRow, HarvestRunRow

__all__ = ["Lease", "RunCounts", "finish_run", "interrupted_run", "last_runs", "latest_start", "start_run"]

LEASE = "harvest"


@dataclass(frozen=True, slots=True)
class Lease:
    """Take, renew and give back the harvest lease as ``holder``."""

    database: Database
    holder: str
    seconds: float
    clock: Callable[[], datetime]

    def take(self) -> bool:
        now = self.clock()
        with self.database.session() as session:
            session.execute(
                upsert(session, HarvestLeaseRow)
                .values(name=LEASE, holder="", until=None)
                .on_conflict_do_nothing()
            )
            taken = session.execute(
                update(HarvestLeaseRow)
                .where(
                    HarvestLeaseRow.name == LEASE,
                    (HarvestLeaseRow.until.is_(None))
                    | (HarvestLeaseRow.until < now)
                    | (HarvestLeaseRow.holder == self.holder),
                )
                .values(holder=self.holder, until=now + timedelta(seconds=self.seconds))
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(taken, "rowcount", 0))

    def renew(self) -> bool:
        return self.take()

    def release(self) -> None:
        with self.database.session() as session:
            session.execute(
                update(HarvestLeaseRow)
                .where(HarvestLeaseRow.name == LEASE, HarvestLeaseRow.holder == self.holder)
                .values(holder="", until=None)
                .execution_options(synchronize_session=False)
            )

    def expired(self, session: Session) -> bool:
        """True when nobody holds the lease (a "running" run then was interrupted)."""
        row = session.get(HarvestLeaseRow, LEASE)
        return row is None or row.until is None or row.until < self.clock()


@dataclass(slots=True)
class RunCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    gone: int = 0
    conflicts: int = 0
    held: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "gone": self.gone,
            "conflicts": self.conflicts,
            "held": self.held,
            "errors": self.errors,
        }


def start_run(session: Session, *, trigger: str, actor: str, holder: str, now: datetime) -> HarvestRunRow:
    run = HarvestRunRow(
        trigger=trigger, actor=actor, status="running", holder=holder, counts={}, started_at=now
    )
    session.add(run)
    session.flush()
    return run


def interrupted_run(session: Session) -> HarvestRunRow | None:
    return session.scalars(
        select(HarvestRunRow).where(HarvestRunRow.status == "running").order_by(HarvestRunRow.id)
    ).first()


def finish_run(
    session: Session, run_id: int, *, status: str, counts: dict[str, Any], message: str, now: datetime
) -> HarvestRunRow:
    run = session.get(HarvestRunRow, run_id)
    assert run is not None
    run.status, run.counts, run.message, run.finished_at = status, counts, message, now
    return run


def latest_start(session: Session) -> datetime | None:
    return session.scalars(select(HarvestRunRow.started_at).order_by(HarvestRunRow.id.desc())).first()


def last_runs(session: Session, limit: int = 20) -> list[HarvestRunRow]:
    return list(session.scalars(select(HarvestRunRow).order_by(HarvestRunRow.id.desc()).limit(limit)))
