"""Where each conversation can be reached, and which channel events were already handled."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
        """Record (or refresh) where a conversation can be reached."""
        row = self.session.get(ConversationRow, conversation_id)
        now = utcnow()
        if row is None:
            self.session.add(
                ConversationRow(
                    id=conversation_id, channel=channel, address=address, created_at=now, last_seen_at=now
                )
            )
        else:
            row.channel, row.address, row.last_seen_at = channel, address, now
        self.session.flush()

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

    def first_time(self, channel: str, event_id: str) -> bool:
        """True the first time an event id is seen on a channel; False for a redelivery.

        Uses the table's primary key, so two replicas receiving the same event agree.
        """
        try:
            with self.session.begin_nested():
                self.session.add(ChannelEventRow(channel=channel, event_id=event_id))
        except IntegrityError:
            return False
        return True
