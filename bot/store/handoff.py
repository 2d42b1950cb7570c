"""Live takeover: conversations waiting for or held by a person, and which agents are present.

The handoffs are the case record's (who took what, when, what it became) and stay in the
database whatever the presence record is; ``PresenceStore`` is the database's ``AgentPresence``.

One open handoff (queued or held) per conversation, enforced by a unique key that is cleared
on release. Every state change is a conditional ``UPDATE`` on the state it starts from, so two
agents taking the same conversation at once cannot both win: the second gets a clear conflict.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.errors import ConflictError
from bot.store.models import AgentPresenceRow, HandoffRow, utcnow

__all__ = ["HandoffConflict", "HandoffState", "HandoffStore", "NotHeld", "PresenceStore"]


class HandoffState(StrEnum):
    QUEUED = "queued"
    HELD = "held"
    RELEASED = "released"


class HandoffConflict(ConflictError):
    """Another agent (``agent``, if known) holds the conversation."""

    def __init__(self, message: str, agent: str = "") -> None:
        super().__init__(message)
        self.agent = agent


class NotHeld(LookupError):
    """The agent does not hold this conversation (it was released, or never taken)."""


def _rowcount(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0


class HandoffStore:
    """Repository over one session; the caller owns the transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def open_for(self, conversation_id: str) -> HandoffRow | None:
        """The conversation's queued or held handoff, if any."""
        return self.session.scalar(select(HandoffRow).where(HandoffRow.open_key == conversation_id))

    def held_by(self, conversation_id: str) -> str | None:
        """The agent holding the conversation, or None (one indexed lookup: asked on every turn)."""
        return self.session.scalar(
            select(HandoffRow.agent).where(
                HandoffRow.open_key == conversation_id, HandoffRow.state == HandoffState.HELD.value
            )
        )

    def get(self, handoff_id: int) -> HandoffRow | None:
        return self.session.get(HandoffRow, handoff_id)

    def request(
        self, conversation_id: str, *, channel: str, reason: str = "", now: datetime | None = None
    ) -> tuple[HandoffRow, bool]:
        """Queue the conversation for a person; (the open handoff, whether it is new)."""
        existing = self.open_for(conversation_id)
        if existing is not None:
            return existing, False
        now = now or utcnow()
        row = HandoffRow(
            conversation_id=conversation_id,
            open_key=conversation_id,
            channel=channel,
            state=HandoffState.QUEUED.value,
            agent="",
            reason=reason[:2000],
            case_number="",
            ended_by="",
            requested_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:  # the same citizen asked twice at once: one request
            existing = self.open_for(conversation_id)
            if existing is None:
                raise
            return existing, False
        return row, True

    def take(
        self, conversation_id: str, agent: str, *, channel: str, now: datetime | None = None
    ) -> tuple[HandoffRow, bool]:
        """The agent holds the conversation; (the handoff, whether it was taken just now).

        A queued request is taken; a conversation nobody asked about is taken directly. Raises
        ``HandoffConflict`` if another agent holds it. Taking it again is a no-op.
        """
        now = now or utcnow()
        for _ in range(3):
            row = self.open_for(conversation_id)
            if row is None:
                fresh = HandoffRow(
                    conversation_id=conversation_id,
                    open_key=conversation_id,
                    channel=channel,
                    state=HandoffState.HELD.value,
                    agent=agent,
                    reason="",
                    case_number="",
                    ended_by="",
                    requested_at=now,
                    taken_at=now,
                )
                try:
                    with self.session.begin_nested():
                        self.session.add(fresh)
                except IntegrityError:
                    continue  # someone opened it meanwhile: look again
                return fresh, True
            if row.state == HandoffState.HELD.value:
                if row.agent == agent:
                    return row, False
                raise HandoffConflict(
                    f"another agent ({row.agent}) already holds this conversation", row.agent
                )
            result = self.session.execute(
                update(HandoffRow)
                .where(HandoffRow.id == row.id, HandoffRow.state == HandoffState.QUEUED.value)
                .values(state=HandoffState.HELD.value, agent=agent, taken_at=now)
                .execution_options(synchronize_session=False)
            )
            self.session.refresh(row)
            if _rowcount(result) == 1:
                return row, True
        raise HandoffConflict("the conversation changed hands while taking it; try again")

    def release(
        self, conversation_id: str, agent: str | None, *, ended_by: str, now: datetime | None = None
    ) -> HandoffRow:
        """End the handoff: the bot answers again. ``agent`` None releases whoever holds it (or a
        queued request); otherwise only the holding agent may. Raises ``NotHeld``."""
        row = self.open_for(conversation_id)
        if row is None:
            raise NotHeld("no person holds or waits for this conversation")
        if agent is not None and (row.state != HandoffState.HELD.value or row.agent != agent):
            raise NotHeld("you do not hold this conversation")
        condition = [HandoffRow.id == row.id, HandoffRow.state == row.state, HandoffRow.agent == row.agent]
        result = self.session.execute(
            update(HandoffRow)
            .where(*condition)
            .values(
                state=HandoffState.RELEASED.value,
                open_key=None,
                ended_by=ended_by,
                released_at=now or utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            raise NotHeld("the conversation changed hands meanwhile")
        self.session.refresh(row)
        return row

    def unanswered(
        self,
        conversation_id: str,
        *,
        channel: str,
        ended_by: str,
        reason: str = "",
        now: datetime | None = None,
    ) -> HandoffRow:
        """A request for a person nobody could take (``ended_by``: out_of_hours, no_agent): kept
        as a released handoff, so it counts as a request, and never queued."""
        now = now or utcnow()
        row = HandoffRow(
            conversation_id=conversation_id,
            open_key=None,
            channel=channel,
            state=HandoffState.RELEASED.value,
            agent="",
            reason=reason[:2000],
            case_number="",
            ended_by=ended_by,
            requested_at=now,
            released_at=now,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def attach_case(self, conversation_id: str, case_number: str, ended_by: tuple[str, ...]) -> bool:
        """The case a citizen filed after a request nobody could take (ended one of ``ended_by``):
        noted on the latest such request without a case. False when there is none."""
        row = self.session.scalar(
            select(HandoffRow)
            .where(
                HandoffRow.conversation_id == conversation_id,
                HandoffRow.ended_by.in_(ended_by),
                HandoffRow.case_number == "",
            )
            .order_by(HandoffRow.requested_at.desc(), HandoffRow.id.desc())
            .limit(1)
        )
        if row is None:
            return False
        row.case_number = case_number
        self.session.flush()
        return True

    def set_case(self, handoff_id: int, case_number: str) -> None:
        self.session.execute(
            update(HandoffRow)
            .where(HandoffRow.id == handoff_id)
            .values(case_number=case_number)
            .execution_options(synchronize_session=False)
        )

    def queued(self) -> list[HandoffRow]:
        """Conversations waiting for a person, longest-waiting first."""
        return list(
            self.session.scalars(
                select(HandoffRow)
                .where(HandoffRow.state == HandoffState.QUEUED.value)
                .order_by(HandoffRow.requested_at, HandoffRow.id)
            )
        )

    def held(self) -> list[HandoffRow]:
        return list(
            self.session.scalars(
                select(HandoffRow)
                .where(HandoffRow.state == HandoffState.HELD.value)
                .order_by(HandoffRow.taken_at, HandoffRow.id)
            )
        )

    def history(self, conversation_id: str) -> list[HandoffRow]:
        return list(
            self.session.scalars(
                select(HandoffRow)
                .where(HandoffRow.conversation_id == conversation_id)
                .order_by(HandoffRow.id)
            )
        )

    def queue_position(self, row: HandoffRow) -> int:
        """1 for the longest-waiting request."""
        waiting = [r.id for r in self.queued()]
        return waiting.index(row.id) + 1 if row.id in waiting else 0


class PresenceStore:
    """Agents' presence as rows (``AgentPresence`` on the database): the embedded default.

    A row per agent: when their inbox last checked in, and whether they take conversations now.
    The rows are durable, so the record covers any window.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def _touch(self, username: str, now: datetime) -> AgentPresenceRow:
        row = self.session.get(AgentPresenceRow, username)
        if row is None:
            row = AgentPresenceRow(username=username, last_seen_at=now, available=True)
            try:
                with self.session.begin_nested():
                    self.session.add(row)
            except IntegrityError:  # two tabs of the same agent at once
                row = self.session.get(AgentPresenceRow, username, populate_existing=True)
                assert row is not None
                row.last_seen_at = now
        else:
            row.last_seen_at = now
        return row

    def heartbeat(self, username: str, *, now: datetime | None = None) -> None:
        self._touch(username, now or utcnow())
        self.session.flush()

    def set_available(self, username: str, available: bool, *, now: datetime | None = None) -> None:
        self._touch(username, now or utcnow()).available = available
        self.session.flush()

    def is_available(self, username: str) -> bool:
        row = self.session.get(AgentPresenceRow, username)
        return row is None or row.available

    def paused(self, usernames: list[str]) -> set[str]:
        """Those of ``usernames`` who paused taking conversations."""
        if not usernames:
            return set()
        return set(
            self.session.scalars(
                select(AgentPresenceRow.username).where(
                    AgentPresenceRow.username.in_(usernames), AgentPresenceRow.available.is_(False)
                )
            )
        )

    def present(self, *, since: datetime) -> list[str]:
        """Agents available and seen at or after ``since``."""
        return list(
            self.session.scalars(
                select(AgentPresenceRow.username)
                .where(AgentPresenceRow.available.is_(True), AgentPresenceRow.last_seen_at >= since)
                .order_by(AgentPresenceRow.username)
            )
        )

    def seen_since(self, username: str, since: datetime) -> bool:
        row = self.session.get(AgentPresenceRow, username)
        return row is not None and row.last_seen_at >= since

    def covers(self, since: datetime, *, now: datetime | None = None) -> bool:
        return True  # rows are kept in the database: nothing is forgotten
