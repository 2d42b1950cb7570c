"""A conversation as an agent reads it: the citizen's messages, the bot's replies, the agents'
words and every notice pushed, in order, with the delivery state of each push."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from bot.messages import parse_payload
from bot.store.models import NotificationRow, TurnRow
from bot.store.outbox import NotificationStore
from bot.store.turns import TurnStore

__all__ = ["Line", "transcript"]

Who = Literal["citizen", "bot", "agent", "notice"]
_PAYLOAD_LABELS = {
    "ask_human": "（按下「轉接專人」）",
    "report_issue": "（按下「我要通報問題」）",
    "feedback_good": "（回饋：有幫助）",
    "feedback_bad": "（回饋：沒有幫助）",
    "pick_suggestion": "（選了建議的問題）",
    "share_location": "（分享了位置）",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One bubble. ``key`` is stable across reads (for the agent page's refresh)."""

    key: str
    at: datetime
    who: Who
    text: str
    detail: str = ""  # the bot's decision / the notice's kind / the agent's name
    delivery: Literal["", "pending", "delivered", "failed"] = ""

    def as_json(self) -> dict[str, str]:
        return {
            "key": self.key,
            "at": self.at.isoformat(),
            "who": self.who,
            "text": self.text,
            "detail": self.detail,
            "delivery": self.delivery,
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _citizen_text(turn: TurnRow) -> str:
    if turn.text.strip():
        return turn.text
    if turn.payload:
        parsed = parse_payload(turn.payload)
        if parsed and parsed[0] in _PAYLOAD_LABELS:
            return _PAYLOAD_LABELS[parsed[0]]
        return f"（按鈕 {turn.payload}）"
    return "（傳送了位置或照片）"


def _turn_lines(turn: TurnRow) -> list[Line]:
    at = _utc(turn.at)
    detail = turn.decision or turn.intent
    lines = [
        Line(f"t{turn.id}", at, "citizen", _citizen_text(turn), "給專員" if turn.decision == "agent" else "")
    ]
    lines += [Line(f"t{turn.id}.{n}", at, "bot", text, detail) for n, text in enumerate(turn.reply) if text]
    return lines


def _notification_lines(row: NotificationRow) -> list[Line]:
    delivery: Literal["pending", "delivered", "failed"] = (
        "delivered" if row.delivered_at else "failed" if row.failed_at else "pending"
    )
    who: Who = "agent" if row.kind == "agent_reply" else "notice"
    detail = row.agent if who == "agent" else row.kind
    out = []
    for n, reply in enumerate(row.replies):
        text = reply.get("text") if isinstance(reply, dict) else None
        out.append(
            Line(
                f"n{row.id}.{n}", _utc(row.created_at), who, str(text or json.dumps(reply)), detail, delivery
            )
        )
    return out


def transcript(session: Session, conversation_id: str) -> list[Line]:
    """Every line of the conversation, oldest first."""
    keyed: list[tuple[tuple[datetime, int, int, int], Line]] = []
    for turn in TurnStore(session).transcript(conversation_id):
        keyed += [((line.at, 0, turn.id, n), line) for n, line in enumerate(_turn_lines(turn))]
    for row in NotificationStore(session).for_conversation(conversation_id):
        if row.delivered_via == "reply":
            continue  # the citizen read it in the bot's reply, already in the turn
        keyed += [((line.at, 1, row.id, n), line) for n, line in enumerate(_notification_lines(row))]
    return [line for _, line in sorted(keyed, key=lambda item: item[0])]
