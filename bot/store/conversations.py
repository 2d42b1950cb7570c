"""Where each conversation can be reached, and which channel events were already handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from bot.store.db import upsert
from bot.store.models import ChannelEventRow, ConversationRow, utcnow

__all__ = ["Address", "ConversationStore", "ChannelEventStore"]


@dataclass(frozen=True, slots=True)
class Address:
    """A conversation's channel and the channel's own id for the citizen (for pushes)."""

    conversation_id: str
    channel: str
    address: str


class ConversationStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, conversation_id: str, channel: str, address: str) -> None:
        """Record (or refresh) where a conversation can be reached: one statement (every turn)."""
        now = utcnow()
        fresh = {"channel": channel, "address": address, "last_seen_at": now}
        statement = upsert(self.session, ConversationRow.__table__).values(
            id=conversation_id, created_at=now, **fresh
        )
        self.session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=fresh))
        loaded = self.session.identity_map.get(identity_key(ConversationRow, conversation_id))
        if loaded is not None:  # a row this session had loaded is read again
            self.session.expire(loaded)

    def address(self, conversation_id: str) -> Address | None:
        row = self.session.get(ConversationRow, conversation_id)
        if row is None:
            return None
        return Address(conversation_id=row.id, channel=row.channel, address=row.address)

    def by_channel_address(self, channel: str, address: str) -> Address | None:
        row = self.session.scalars(
            select(ConversationRow).where(
                ConversationRow.channel == channel, ConversationRow.address == address
            )
        ).first()
        if row is None:
            return None
        return Address(conversation_id=row.id, channel=row.channel, address=row.address)


class ChannelEventStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def first_time(self, channel: str, event_id: str, payload: dict[str, Any] | None = None) -> bool:
        """True the first time an event id is seen on a channel; False for a redelivery.

        Uses the table's primary key, so two replicas receiving the same event agree. The
        caller that gets True holds the event's lease (see ``claim``); ``payload`` is the raw
        event, kept until ``finish`` so that an interrupted event can be processed again.
        """
        now = utcnow()
        statement = (
            upsert(self.session, ChannelEventRow.__table__)
            .values(
                channel=channel,
                event_id=event_id,
                received_at=now,
                payload=payload,
                claimed_at=now,
                attempts=1,
            )
            .on_conflict_do_nothing(index_elements=["channel", "event_id"])
            .returning(ChannelEventRow.__table__.c.event_id)
        )
        return self.session.execute(statement).first() is not None  # one statement: no row, a redelivery

    def get(self, channel: str, event_id: str) -> ChannelEventRow | None:
        return self.session.get(ChannelEventRow, (channel, event_id))

    def claim(self, channel: str, event_id: str, *, lease_seconds: float) -> bool:
        """Take over an unhandled event whose lease ran out (or was released); True if taken."""
        now = utcnow()
        result = self.session.execute(
            update(ChannelEventRow)
            .where(
                ChannelEventRow.channel == channel,
                ChannelEventRow.event_id == event_id,
                ChannelEventRow.handled_at.is_(None),
                or_(
                    ChannelEventRow.claimed_at.is_(None),
                    ChannelEventRow.claimed_at < now - timedelta(seconds=lease_seconds),
                ),
            )
            .values(claimed_at=now, attempts=ChannelEventRow.attempts + 1),
            execution_options={"synchronize_session": False},
        )
        return bool(cast(CursorResult[Any], result).rowcount == 1)

    def finish(self, channel: str, event_id: str, response: dict[str, Any] | None = None) -> None:
        """Mark an event handled, keep what was answered, and drop the raw event."""
        self.session.execute(
            update(ChannelEventRow)
            .where(ChannelEventRow.channel == channel, ChannelEventRow.event_id == event_id)
            .values(handled_at=utcnow(), response=response, payload=None),
            execution_options={"synchronize_session": False},
        )

    def finish_first(self, channel: str, event_id: str, response: dict[str, Any] | None = None) -> bool:
        """``finish`` only if no one has yet: True if this call did. Two replicas answering the
        same event (one outlived its lease) both call it in the transaction that logs their
        turn; the row lock makes the second wait for the first, then find it handled."""
        result = self.session.execute(
            update(ChannelEventRow)
            .where(
                ChannelEventRow.channel == channel,
                ChannelEventRow.event_id == event_id,
                ChannelEventRow.handled_at.is_(None),
            )
            .values(handled_at=utcnow(), response=response, payload=None),
            execution_options={"synchronize_session": False},
        )
        return bool(cast(CursorResult[Any], result).rowcount == 1)

    def release(self, channel: str, event_id: str) -> None:
        """Give up the lease of an event that failed, so that it is tried again."""
        self.session.execute(
            update(ChannelEventRow)
            .where(
                ChannelEventRow.channel == channel,
                ChannelEventRow.event_id == event_id,
                ChannelEventRow.handled_at.is_(None),
            )
            .values(claimed_at=None),
            execution_options={"synchronize_session": False},
        )

    def unhandled(
        self, channel: str, *, lease_seconds: float, max_attempts: int, limit: int = 100
    ) -> list[tuple[str, dict[str, Any]]]:
        """Events accepted but not handled, free to claim, oldest first: (event id, raw event)."""
        cutoff = utcnow() - timedelta(seconds=lease_seconds)
        rows = self.session.execute(
            select(ChannelEventRow.event_id, ChannelEventRow.payload)
            .where(
                ChannelEventRow.channel == channel,
                ChannelEventRow.handled_at.is_(None),
                ChannelEventRow.payload.is_not(None),
                ChannelEventRow.attempts < max_attempts,
                or_(ChannelEventRow.claimed_at.is_(None), ChannelEventRow.claimed_at < cutoff),
            )
            .order_by(ChannelEventRow.received_at)
            .limit(limit)
        ).all()
        return [(event_id, payload) for event_id, payload in rows if payload is not None]
