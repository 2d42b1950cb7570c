"""Helpers to write a turn log: citizens' questions at given times, with picks and feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.store import Database
from bot.store.turns import Turn, TurnStore

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Taipei


@dataclass
class TurnLog:
    """Writes turns like the chat service does; ``minute`` advances a clock from ``T0``."""

    database: Database
    minute: int = 0
    ids: list[int] = field(default_factory=list)

    def at(self) -> datetime:
        self.minute += 1
        return T0 + timedelta(minutes=self.minute)

    def ask(
        self,
        text: str,
        decision: str,
        *,
        who: str = "p_a",
        channel: str = "web",
        candidates: list[str] | None = None,
        faq_id: str = "",
        at: datetime | None = None,
    ) -> int:
        with self.database.session() as session:
            turn_id = TurnStore(session).log(
                Turn(
                    who,
                    who,
                    channel,
                    text=text,
                    decision=decision,
                    candidates=candidates or [],
                    faq_id=faq_id,
                    at=at or self.at(),
                )
            )
        self.ids.append(turn_id)
        return turn_id

    def pick(self, faq_id: str, *, who: str = "p_a", channel: str = "web") -> int:
        with self.database.session() as session:
            return TurnStore(session).log(
                Turn(
                    who,
                    who,
                    channel,
                    payload=f'/pick_suggestion{{"faq_id":"{faq_id}"}}',
                    intent="pick_suggestion",
                    decision="answer",
                    candidates=[faq_id],
                    faq_id=faq_id,
                    at=self.at(),
                )
            )

    def bad(self, *, who: str = "p_a", channel: str = "web") -> None:
        """The 沒幫助 button: feedback on the latest answer, logged as a turn of its own."""
        with self.database.session() as session:
            store = TurnStore(session)
            store.set_feedback(who, "bad")
            store.log(Turn(who, who, channel, payload="/feedback_bad", intent="feedback_bad", at=self.at()))
