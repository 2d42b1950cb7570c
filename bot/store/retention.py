"""Retention: personal data is kept only as long as the settings say (``bot1999 purge``).

Past ``privacy.retention_days``:

- a turn's raw ``text`` is blanked; its redacted copy (``text_redacted``, written again with
  today's patterns first) and the bot's replies (redacted) stay, so every count and figure
  the supervisors read is unchanged;
- a conversation nobody has written in since, with no case moving since, forgets its channel
  address (the LINE / Telegram / web id pushes go to); the next message sets it again;
- a handled channel event (kept to recognise redeliveries) is deleted;
- a case notification delivered or given up, and a message kept for a web widget to fetch
  (an agent's reply, a notice), are deleted: what they said stays in the turn log (redacted)
  and in the case's history;
- Rasa's tracker store, where it shares the database, is purged beside this by
  ``bot.cluster.tracker_events`` (the store does not know Rasa's tables).

Past ``privacy.case_retention_days`` after it was closed or rejected, a case loses its
contact phone and photo, and its description, place, sender and the notes on its history are
redacted. Open cases are never touched. Running it again changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from bot.cases import CaseStatus
from bot.privacy import redact
from bot.store import Database
from bot.store.models import (
    CaseEventRow,
    CaseRow,
    ChannelEventRow,
    ConversationRow,
    NotificationRow,
    TurnRow,
    WebOutboxRow,
    utcnow,
)

__all__ = ["PurgeReport", "RetentionPolicy", "cutoffs", "purge"]

BATCH = 500
_FINAL = (CaseStatus.CLOSED.value, CaseStatus.REJECTED.value)
Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    turn_cutoff: datetime
    case_cutoff: datetime
    turns: int = 0
    conversations: int = 0
    channel_events: int = 0
    cases: int = 0
    case_notes: int = 0
    notifications: int = 0
    web_messages: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would be" if self.dry_run else "were"
        return (
            f"turns before {self.turn_cutoff:%Y-%m-%d}: {self.turns} raw texts {verb} blanked "
            f"(redacted copies and counts kept); {self.conversations} channel addresses {verb} forgotten; "
            f"{self.channel_events} handled channel events, {self.notifications} sent notifications and "
            f"{self.web_messages} web-widget messages {verb} deleted; "
            f"cases closed before {self.case_cutoff:%Y-%m-%d}: {self.cases} {verb} cleared of personal data "
            f"({self.case_notes} history notes redacted)"
        )


class RetentionPolicy(Protocol):
    """How long personal data is kept (``bot.settings.PrivacySettings`` is one)."""

    @property
    def retention_days(self) -> int: ...

    @property
    def case_retention_days(self) -> int: ...


def cutoffs(privacy: RetentionPolicy, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(turn cutoff, case cutoff): data older than these is purged."""
    now = now or utcnow()
    return now - timedelta(days=privacy.retention_days), now - timedelta(days=privacy.case_retention_days)


def _batches(
    database: Database, query: Callable[[int], Select[Row]], change: Callable[[Session, Row], bool]
) -> int:
    """Walk ``query(after_id)`` in id order, one transaction per batch; count rows ``change`` changed."""
    changed, after = 0, 0
    while True:
        with database.session() as session:
            rows = list(session.scalars(query(after).limit(BATCH)))
            for row in rows:
                changed += change(session, row)
            if not rows:
                return changed
            after = int(getattr(rows[-1], "id", 0))


def _purge_turn(dry_run: bool) -> Callable[[Session, TurnRow], bool]:
    def change(_session: Session, turn: TurnRow) -> bool:
        if not dry_run:
            turn.text_redacted = redact(turn.text)
            turn.reply = [redact(line) for line in turn.reply]
            turn.text = ""
        return True

    return change


def _purge_case(dry_run: bool) -> Callable[[Session, CaseRow], bool]:
    def change(_session: Session, case: CaseRow) -> bool:
        cleared: dict[str, Any] = {
            "phone": "",
            "contact_consent": False,
            "photo_ref": "",
            "description": redact(case.description),
            "location_text": redact(case.location_text),
            "sender_id": redact(case.sender_id),
        }
        differs = any(getattr(case, name) != value for name, value in cleared.items())
        if differs and not dry_run:
            for name, value in cleared.items():
                setattr(case, name, value)
        return differs

    return change


def _purge_note(dry_run: bool) -> Callable[[Session, CaseEventRow], bool]:
    def change(_session: Session, event: CaseEventRow) -> bool:
        note = redact(event.note)
        if note == event.note:
            return False
        if not dry_run:
            event.note = note
        return True

    return change


def purge(
    database: Database, turn_cutoff: datetime, case_cutoff: datetime, *, dry_run: bool = False
) -> PurgeReport:
    """Remove the personal data past its retention (see the module's description); the counts."""
    turns = _batches(
        database,
        lambda after: (
            select(TurnRow)
            .where(TurnRow.id > after, TurnRow.at < turn_cutoff, TurnRow.text != "")
            .order_by(TurnRow.id)
        ),
        _purge_turn(dry_run),
    )
    old_case = select(CaseRow.id).where(
        CaseRow.status.in_(_FINAL), func.coalesce(CaseRow.closed_at, CaseRow.updated_at) < case_cutoff
    )
    cases = _batches(
        database,
        lambda after: (
            select(CaseRow).where(CaseRow.id > after, CaseRow.id.in_(old_case)).order_by(CaseRow.id)
        ),
        _purge_case(dry_run),
    )
    notes = _batches(
        database,
        lambda after: (
            select(CaseEventRow)
            .where(CaseEventRow.id > after, CaseEventRow.case_id.in_(old_case), CaseEventRow.note != "")
            .order_by(CaseEventRow.id)
        ),
        _purge_note(dry_run),
    )
    recent_case = exists().where(
        CaseRow.conversation_id == ConversationRow.id,
        or_(CaseRow.status.not_in(_FINAL), CaseRow.updated_at >= turn_cutoff),
    )
    idle = (ConversationRow.last_seen_at < turn_cutoff, ConversationRow.address != "", ~recent_case)
    old_event = (ChannelEventRow.handled_at.is_not(None), ChannelEventRow.handled_at < turn_cutoff)
    # never a notification still waiting to go out
    sent = or_(NotificationRow.delivered_at < turn_cutoff, NotificationRow.failed_at < turn_cutoff)
    fetched = WebOutboxRow.created_at < turn_cutoff
    with database.session() as session:
        conversations = _count(session, select(func.count()).select_from(ConversationRow).where(*idle))
        events = _count(session, select(func.count()).select_from(ChannelEventRow).where(*old_event))
        notifications = _count(session, select(func.count()).select_from(NotificationRow).where(sent))
        web_messages = _count(session, select(func.count()).select_from(WebOutboxRow).where(fetched))
        if not dry_run:
            for conversation in session.scalars(select(ConversationRow).where(*idle)):
                conversation.address = ""
            session.execute(delete(ChannelEventRow).where(*old_event))
            session.execute(delete(NotificationRow).where(sent))
            session.execute(delete(WebOutboxRow).where(fetched))
    return PurgeReport(
        turn_cutoff,
        case_cutoff,
        turns,
        conversations,
        events,
        cases,
        notes,
        notifications,
        web_messages,
        dry_run=dry_run,
    )


def _count(session: Session, query: Select[int]) -> int:
    return int(session.scalar(query) or 0)
