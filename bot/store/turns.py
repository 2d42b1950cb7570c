"""The turn log: every citizen message with the bot's decision and reply, and feedback on it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from bot.privacy import redact
from bot.store.models import TurnRow, utcnow

__all__ = ["Turn", "TurnStore", "FEEDBACK_VALUES"]

FEEDBACK_VALUES = frozenset({"good", "bad"})


_TURN_TABLE = cast(Table, TurnRow.__table__)


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn as the chat service records it (``text`` is redacted on the way in)."""

    conversation_id: str
    sender: str
    channel: str
    text: str = ""
    payload: str = ""
    intent: str = ""
    intent_confidence: float | None = None
    decision: str = ""
    candidates: list[str] = field(default_factory=list)
    faq_id: str = ""
    category: str = ""
    agency: str = ""
    reply: list[str] = field(default_factory=list)
    latency_ms: float | None = None
    degraded: bool = False
    at: datetime | None = None


class TurnStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    def log(self, turn: Turn) -> int:
        """Store one turn (one Core statement: every message is logged); its id."""
        data = asdict(turn)
        data["at"] = turn.at or utcnow()
        data["text_redacted"] = redact(turn.text)
        return int(self.session.execute(insert(_TURN_TABLE).values(data).returning(TurnRow.id)).scalar_one())

    def set_feedback(self, conversation_id: str, value: str) -> int | None:
        """Attach feedback to the conversation's latest answered turn; its id, or None if none."""
        if value not in FEEDBACK_VALUES:
            raise ValueError(f"feedback must be one of {sorted(FEEDBACK_VALUES)}")
        turn_id = self.session.scalar(
            select(TurnRow.id)
            .where(TurnRow.conversation_id == conversation_id, TurnRow.faq_id != "")
            .order_by(TurnRow.at.desc(), TurnRow.id.desc())
            .limit(1)
        )
        if turn_id is None:
            return None
        self.session.execute(update(TurnRow).where(TurnRow.id == turn_id).values(feedback=value))
        return int(turn_id)

    def transcript(self, conversation_id: str) -> list[TurnRow]:
        return list(
            self.session.scalars(
                select(TurnRow)
                .where(TurnRow.conversation_id == conversation_id)
                .order_by(TurnRow.at, TurnRow.id)
            )
        )
