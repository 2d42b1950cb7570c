"""The notification outbox (pushes to citizens) and the web widget's mailbox.

A notification is written in the same transaction as the change it reports, so a change is
never committed without its notice, nor a notice without its change. Delivery claims due rows
with a lease (``claim_token`` until ``claimed_until``) in a short transaction — on PostgreSQL
the candidate rows are read ``FOR UPDATE SKIP LOCKED`` so two replicas never wait on or take
the same rows; on SQLite the conditional ``UPDATE`` is the claim — then pushes outside any
transaction, then marks each row delivered (or due again later) only if its claim still holds.
A replica that dies mid-push leaves its claim to expire: the row is pushed again (at least
once, never silently dropped). Per conversation, rows go out in order: a row is claimable only
when no earlier row of its conversation is still pending.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from bot.store.models import NotificationRow, WebOutboxRow, utcnow

__all__ = ["Claimed", "NotificationStore", "OutboxCounts", "WebOutboxStore"]


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification this process holds the lease on: push it, then report the outcome."""

    id: int
    token: str
    conversation_id: str
    kind: str
    replies: list[dict[str, Any]]
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    failed: int
    delivered: int


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


class NotificationStore:
    """Repository over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(
        self,
        conversation_id: str,
        kind: str,
        replies: list[dict[str, Any]],
        *,
        case_number: str = "",
        agent: str = "",
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        now: datetime | None = None,
    ) -> NotificationRow | None:
        """Add a notification; None when ``dedupe_key`` was already enqueued (nothing is sent twice)."""
        if not conversation_id:
            raise ValueError("a notification needs a conversation to go to")
        if not replies:
            raise ValueError("a notification needs something to say")
        if dedupe_key is not None and self.session.scalar(
            select(NotificationRow.id).where(NotificationRow.dedupe_key == dedupe_key)
        ):
            return None
        now = now or utcnow()
        row = NotificationRow(
            conversation_id=conversation_id,
            kind=kind,
            replies=replies,
            case_number=case_number,
            agent=agent,
            dedupe_key=dedupe_key,
            created_at=now,
            next_attempt_at=max(now, not_before) if not_before else now,
            attempts=0,
            last_error="",
            delivered_via="",
        )
        try:
            with self.session.begin_nested():  # a concurrent enqueue of the same key loses quietly
                self.session.add(row)
        except IntegrityError:
            if dedupe_key is None:
                raise
            return None
        return row

    # --- delivery ----------------------------------------------------------------------------

    def claim(self, *, lease: timedelta, limit: int = 50, now: datetime | None = None) -> list[Claimed]:
        """Take the lease on up to ``limit`` due notifications, the first pending one per conversation."""
        now = now or utcnow()
        earlier = aliased(NotificationRow)
        earlier_pending = exists().where(
            earlier.conversation_id == NotificationRow.conversation_id,
            earlier.id < NotificationRow.id,
            earlier.delivered_at.is_(None),
            earlier.failed_at.is_(None),
        )
        query = (
            select(NotificationRow.id)
            .where(
                NotificationRow.delivered_at.is_(None),
                NotificationRow.failed_at.is_(None),
                NotificationRow.next_attempt_at <= now,
                (NotificationRow.claimed_until.is_(None)) | (NotificationRow.claimed_until < now),
                ~earlier_pending,
            )
            .order_by(NotificationRow.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=NotificationRow)
        ids = list(self.session.scalars(query))
        if not ids:
            return []
        token = secrets.token_hex(16)
        self.session.execute(
            update(NotificationRow)
            .where(
                NotificationRow.id.in_(ids),
                NotificationRow.delivered_at.is_(None),
                NotificationRow.failed_at.is_(None),
                (NotificationRow.claimed_until.is_(None)) | (NotificationRow.claimed_until < now),
            )
            .values(claim_token=token, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        rows = self.session.execute(
            select(
                NotificationRow.id,
                NotificationRow.conversation_id,
                NotificationRow.kind,
                NotificationRow.replies,
                NotificationRow.attempts,
                NotificationRow.created_at,
            )
            .where(NotificationRow.claim_token == token)
            .order_by(NotificationRow.id)
        ).all()
        return [
            Claimed(r.id, token, r.conversation_id, r.kind, list(r.replies), r.attempts, r.created_at)
            for r in rows
        ]

    def _mine(self, claim: Claimed) -> Any:
        return (NotificationRow.id == claim.id) & (NotificationRow.claim_token == claim.token)

    def delivered(self, claim: Claimed, *, now: datetime | None = None) -> bool:
        """Mark a pushed notification delivered; False if the lease was lost meanwhile."""
        result = self.session.execute(
            update(NotificationRow)
            .where(self._mine(claim))
            .values(
                delivered_at=now or utcnow(),
                delivered_via="push",
                attempts=NotificationRow.attempts + 1,
                claim_token=None,
                claimed_until=None,
                last_error="",
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def retry_later(self, claim: Claimed, error: str, *, at: datetime) -> bool:
        """A push failed: try again at ``at`` (keeping the error for the operator)."""
        result = self.session.execute(
            update(NotificationRow)
            .where(self._mine(claim))
            .values(
                next_attempt_at=at,
                attempts=NotificationRow.attempts + 1,
                last_error=error[:2000],
                claim_token=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def give_up(self, claim: Claimed, error: str, *, now: datetime | None = None) -> bool:
        """Stop retrying (kept with its error, visible to operators; later notices are unblocked)."""
        result = self.session.execute(
            update(NotificationRow)
            .where(self._mine(claim))
            .values(
                failed_at=now or utcnow(),
                attempts=NotificationRow.attempts + 1,
                last_error=error[:2000],
                claim_token=None,
                claimed_until=None,
            )
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def settle_in_band(self, conversation_id: str, texts: list[str], *, now: datetime | None = None) -> int:
        """Pending case notices whose case number the citizen was just told in a reply: no push needed."""
        pending = self.session.scalars(
            select(NotificationRow).where(
                NotificationRow.conversation_id == conversation_id,
                NotificationRow.kind == "case_filed",
                NotificationRow.delivered_at.is_(None),
                NotificationRow.failed_at.is_(None),
                NotificationRow.claim_token.is_(None),
            )
        ).all()
        settled = 0
        for row in pending:
            if row.case_number and any(row.case_number in text for text in texts):
                row.delivered_at, row.delivered_via = now or utcnow(), "reply"
                settled += 1
        return settled

    # --- reading ------------------------------------------------------------------------------

    def for_conversation(self, conversation_id: str, *, after_id: int = 0) -> list[NotificationRow]:
        return list(
            self.session.scalars(
                select(NotificationRow)
                .where(NotificationRow.conversation_id == conversation_id, NotificationRow.id > after_id)
                .order_by(NotificationRow.id)
            )
        )

    def for_case(self, case_number: str) -> list[NotificationRow]:
        return list(
            self.session.scalars(
                select(NotificationRow)
                .where(NotificationRow.case_number == case_number)
                .order_by(NotificationRow.id)
            )
        )

    def counts(self) -> OutboxCounts:
        def count(*where: Any) -> int:
            return int(
                self.session.scalar(select(func.count()).select_from(NotificationRow).where(*where)) or 0
            )

        return OutboxCounts(
            pending=count(NotificationRow.delivered_at.is_(None), NotificationRow.failed_at.is_(None)),
            failed=count(NotificationRow.failed_at.is_not(None)),
            delivered=count(NotificationRow.delivered_at.is_not(None)),
        )


class WebOutboxStore:
    """Messages pushed to web-widget citizens, fetched by the widget by increasing id."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, address: str, replies: list[dict[str, Any]], *, now: datetime | None = None) -> list[int]:
        now = now or utcnow()
        rows = [WebOutboxRow(address=address, reply=reply, created_at=now) for reply in replies]
        self.session.add_all(rows)
        self.session.flush()
        return [row.id for row in rows]

    def since(self, address: str, after: int, *, limit: int = 50) -> list[WebOutboxRow]:
        return list(
            self.session.scalars(
                select(WebOutboxRow)
                .where(WebOutboxRow.address == address, WebOutboxRow.id > after)
                .order_by(WebOutboxRow.id)
                .limit(limit)
            )
        )

    def prune(self, *, before: datetime) -> int:
        result = self.session.execute(delete(WebOutboxRow).where(WebOutboxRow.created_at < before))
        return _rowcount(result)
