"""Retention for Rasa's SQL tracker store (``endpoints.tracker_store``): its ``events`` table.

Where the tracker store shares the bot's database (``bot1999 run-cluster``), its events (what
citizens typed, slots, forms) past ``privacy.retention_days`` are deleted by ``bot1999 purge``,
beside the bot's own data (``bot.store.retention``). A Rasa conversation session lasts an hour,
so no live conversation loses its state. Without the table (the embedded set-up keeps Rasa's
trackers in memory) there is nothing to do.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import column, delete, func, inspect, select, table

from bot.store import Database

__all__ = ["EVENTS", "purge_tracker_events"]

EVENTS = table("events", column("timestamp"))  # as Rasa's SQLTrackerStore makes it (seconds since 1970)


def purge_tracker_events(database: Database, cutoff: datetime, *, dry_run: bool = False) -> int:
    """Delete (``dry_run``: only count) the tracker store's events older than ``cutoff``."""
    if not inspect(database.engine).has_table("events"):
        return 0
    old = EVENTS.c.timestamp < cutoff.timestamp()
    with database.session() as session:
        count = int(session.scalar(select(func.count()).select_from(EVENTS).where(old)) or 0)
        if not dry_run:
            session.execute(delete(EVENTS).where(old))
    return count
