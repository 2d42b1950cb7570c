"""Bring ``metric_turn`` up to date with the turn log, conversation by conversation.

A turn's outcome depends on the turns after it (a pick, feedback, a rephrase), so whenever a
conversation gets a new turn, all of its turns are derived again (``outcomes``). Work is found
by the last turn id seen (``metric_state``), plus, against transactions that commit a lower id
after a higher one, any turn of the last minutes that has no metric row yet. Each batch is one
transaction that starts by locking the state row, so concurrent refreshes (two replicas, two
requests) take turns and the result does not depend on who ran first. Metric rows of turns that
have since been deleted are kept: the figures of the past do not change when old turns go.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any, TypeVar

from sqlalchemy import and_, case, delete, func, insert, select, union, update
from sqlalchemy.orm import Session

from bot.agencies import canonical_agency
from bot.metrics.outcomes import FaqTopic, TurnFacts, TurnOutcome, outcomes
from bot.store import Database
from bot.store.models import FaqRow, MetricDayRow, MetricStateRow, MetricTurnRow, TurnRow, utcnow

__all__ = ["BATCH_CONVERSATIONS", "LATE_COMMIT", "RefreshResult", "refresh"]

log = logging.getLogger(__name__)
T = TypeVar("T")
STATE = "turns"
LATE_COMMIT = timedelta(minutes=2)
BATCH_CONVERSATIONS = 500
ANALYZE_AFTER = 10_000  # rows written by one refresh after which PostgreSQL's tables are vacuumed
_OUTCOME_FIELDS = tuple(f.name for f in fields(TurnOutcome))
_COLUMNS = (
    TurnRow.id,
    TurnRow.conversation_id,
    TurnRow.sender,
    TurnRow.channel,
    TurnRow.at,
    TurnRow.text_redacted,
    TurnRow.payload,
    TurnRow.intent,
    TurnRow.decision,
    TurnRow.candidates,
    TurnRow.faq_id,
    TurnRow.category,
    TurnRow.agency,
    TurnRow.latency_ms,
    TurnRow.degraded,
    TurnRow.feedback,
)


@dataclass(frozen=True, slots=True)
class RefreshResult:
    conversations: int
    turns: int  # derived
    changed: int  # written, because new or different
    last_turn_id: int
    seconds: float
    pending: int = 0  # conversations left for the next call (a limited run)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _lock_state(session: Session) -> MetricStateRow:
    """The state row, locked for this transaction (the first statement is a write on purpose)."""
    result = session.execute(
        update(MetricStateRow)
        .where(MetricStateRow.name == STATE)
        .values(last_turn_id=MetricStateRow.last_turn_id)
    )
    if getattr(result, "rowcount", 0) == 0:  # a schema made without the migration's seed row
        session.add(MetricStateRow(name=STATE, last_turn_id=0))
        session.flush()
    state = session.get(MetricStateRow, STATE, populate_existing=True)
    assert state is not None
    return state


def _pending_conversations(session: Session, full: bool) -> tuple[list[str], int, int]:
    """The conversations to derive again, the largest turn id now and the last one seen before."""
    state = session.get(MetricStateRow, STATE)
    last_id = state.last_turn_id if state is not None and not full else 0
    since = _aware(state.refreshed_at) if state is not None else None
    max_id = int(session.scalar(select(func.max(TurnRow.id))) or 0)
    if full:
        sources = [select(TurnRow.conversation_id).where(TurnRow.id <= max_id)]
    else:  # turns not derived yet: new ones, and recent ones that committed after a higher id
        underived = select(TurnRow.conversation_id).outerjoin(
            MetricTurnRow, MetricTurnRow.turn_id == TurnRow.id
        )
        sources = [
            underived.where(TurnRow.id > last_id, TurnRow.id <= max_id, MetricTurnRow.turn_id.is_(None))
        ]
        if since is not None and last_id:
            sources.append(
                underived.where(
                    TurnRow.at >= since - LATE_COMMIT, TurnRow.id <= last_id, MetricTurnRow.turn_id.is_(None)
                )
            )
    query = union(*sources) if len(sources) > 1 else sources[0].distinct()
    conversations = sorted(str(c) for c in session.scalars(query))
    return conversations, max_id, last_id


def _facts(row: Sequence[Any]) -> TurnFacts:
    (turn_id, conversation, sender, channel, at, text, payload, intent, decision, candidates, faq_id,
     category, agency, latency_ms, degraded, feedback) = row  # fmt: skip
    return TurnFacts(
        id=int(turn_id),
        conversation_id=str(conversation),
        sender=str(sender),
        channel=str(channel),
        at=_aware(at) or utcnow(),
        text_redacted=text or "",
        payload=payload or "",
        intent=intent or "",
        decision=decision or "",
        candidates=[str(c) for c in candidates or ()],
        faq_id=faq_id or "",
        category=category or "",
        agency=canonical_agency(agency or ""),
        latency_ms=float(latency_ms) if latency_ms is not None else None,
        degraded=bool(degraded),
        feedback=feedback or "",
    )


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _comparable(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(_aware(row[name]) if name == "at" else row[name] for name in _OUTCOME_FIELDS)


def _derive_batch(
    session: Session, conversations: Sequence[str], topics: dict[str, FaqTopic]
) -> tuple[int, int, set[str]]:
    """Derive the conversations' turns; write the rows that changed. (derived, changed, days touched)."""
    rows = session.execute(
        select(*_COLUMNS)
        .where(TurnRow.conversation_id.in_(conversations))
        .order_by(TurnRow.conversation_id, TurnRow.at, TurnRow.id)
    )
    derived: dict[int, dict[str, Any]] = {}
    for _, turns in groupby((_facts(row) for row in rows), key=lambda t: t.conversation_id):
        for outcome in outcomes(list(turns), topics.get):
            derived[outcome.turn_id] = {name: getattr(outcome, name) for name in _OUTCOME_FIELDS}
    stored = {
        int(row[0]): dict(zip(_OUTCOME_FIELDS, row, strict=True))
        for row in session.execute(
            select(*(getattr(MetricTurnRow, name) for name in _OUTCOME_FIELDS)).where(
                MetricTurnRow.conversation_id.in_(conversations)
            )
        )
    }
    changed = [
        turn_id
        for turn_id, row in derived.items()
        if turn_id not in stored or _comparable(stored[turn_id]) != _comparable(row)
    ]
    days = {derived[t]["day"] for t in changed} | {stored[t]["day"] for t in changed if t in stored}
    for ids in _chunks(changed, 500):
        session.execute(delete(MetricTurnRow).where(MetricTurnRow.turn_id.in_(ids)))
    if changed:
        session.connection().execute(insert(MetricTurnRow), [derived[t] for t in changed])
    return len(derived), len(changed), days


_DAY_SUMS = (
    ("turns", func.count()),
    ("questions", func.sum(MetricTurnRow.question)),
    ("answered", func.sum(MetricTurnRow.answered)),
    ("successful", func.sum(MetricTurnRow.successful)),
    (
        "clarified",
        func.sum(case((and_(MetricTurnRow.question == 1, MetricTurnRow.decision == "clarify"), 1), else_=0)),
    ),
    (
        "abstained",
        func.sum(case((and_(MetricTurnRow.question == 1, MetricTurnRow.decision == "abstain"), 1), else_=0)),
    ),
    (
        "feedback_good",
        func.sum(case((and_(MetricTurnRow.question == 1, MetricTurnRow.feedback == "good"), 1), else_=0)),
    ),
    (
        "feedback_bad",
        func.sum(case((and_(MetricTurnRow.question == 1, MetricTurnRow.feedback == "bad"), 1), else_=0)),
    ),
    ("timed", func.count(MetricTurnRow.latency_ms)),
)


def _rebuild_days(session: Session, days: set[str]) -> None:
    """Sum ``metric_turn`` into ``metric_day`` again for these days."""
    keys = (MetricTurnRow.day, MetricTurnRow.channel, MetricTurnRow.category, MetricTurnRow.agency)
    names = ["day", "channel", "category", "agency", *(name for name, _ in _DAY_SUMS)]
    for chunk in _chunks(sorted(days), 500):
        session.execute(delete(MetricDayRow).where(MetricDayRow.day.in_(chunk)))
        sums = select(*keys, *(expression for _, expression in _DAY_SUMS)).where(MetricTurnRow.day.in_(chunk))
        session.execute(insert(MetricDayRow).from_select(names, sums.group_by(*keys)))


def refresh(
    database: Database,
    *,
    full: bool = False,
    limit: int | None = None,
    now: datetime | None = None,
) -> RefreshResult:
    """Derive the outcomes of every conversation with turns not yet counted (all with ``full``).

    With ``limit``, at most that many conversations are derived; ``pending`` says how many are
    left for the next call (which goes on where this one stopped).
    """
    started = time.perf_counter()
    with database.session() as session:
        conversations, max_id, last_id = _pending_conversations(session, full)
        if not conversations and not full:
            return RefreshResult(0, 0, 0, last_id, time.perf_counter() - started)
        pending = 0
        if limit is not None and len(conversations) > limit:
            conversations, pending = conversations[:limit], len(conversations) - limit
        topics = {
            str(faq_id): (str(category), canonical_agency(str(agency or "")))
            for faq_id, category, agency in session.execute(select(FaqRow.id, FaqRow.category, FaqRow.agency))
        }
    turns = written = 0
    for batch in _chunks(conversations, BATCH_CONVERSATIONS):
        with database.session() as session:
            _lock_state(session)
            derived, changed, days = _derive_batch(session, batch, topics)
            _rebuild_days(session, days)
            turns, written = turns + derived, written + changed
    if written >= ANALYZE_AFTER and database.engine.dialect.name == "postgresql":
        # fresh statistics and visibility map: the planner picks the covering indexes and reads
        # them without visiting the table (VACUUM cannot run inside a transaction)
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) metric_turn")
            connection.exec_driver_sql("VACUUM (ANALYZE) metric_day")
    with database.session() as session:
        state = _lock_state(session)
        if not pending:  # a partial run leaves the mark: the rest is found again next time
            state.last_turn_id = max(state.last_turn_id, max_id)
            state.refreshed_at = now or utcnow()
        last = state.last_turn_id
    took = time.perf_counter() - started
    if conversations:
        log.info(
            "metrics: %d conversations (%d turns, %d changed) derived in %.2f s; %d left",
            len(conversations), turns, written, took, pending,
        )  # fmt: skip
    return RefreshResult(len(conversations), turns, written, last, took, pending)


def main(argv: list[str] | None = None) -> None:
    """``python -m bot.metrics.refresh [--full]``: derive the figures now (e.g. after an upgrade)."""
    import argparse

    from bot.settings import get_settings

    parser = argparse.ArgumentParser(
        description="Bring the dashboard's figures up to date with the turn log."
    )
    parser.add_argument("--full", action="store_true", help="derive every conversation again")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    database = Database(get_settings().database_url_plain)
    database.migrate()
    result = refresh(database, full=args.full)
    print(
        f"{result.conversations} conversations, {result.turns} turns derived ({result.changed} changed) "
        f"in {result.seconds:.1f} s; last turn {result.last_turn_id}"
    )
    database.dispose()


if __name__ == "__main__":
    main()
