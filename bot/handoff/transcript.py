"""A conversation as an agent reads it: the citizen's messages, the bot's replies, the agents'
words and every notice pushed, in order, with the delivery state of each push."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session

from bot.chat.faq import MAX_OFFERED
from bot.messages import parse_payload
from bot.store.models import FaqRow, NotificationRow, TurnRow
from bot.store.outbox import NotificationStore
from bot.store.turns import TurnStore

__all__ = ["Line", "transcript"]

Who = Literal["citizen", "bot", "agent", "notice"]
# What each button that sends the payload says, as the citizen saw it (bot/chat/faq.py,
# domain.yml, actions/): the transcript shows the button, not the payload.
_BUTTON_TITLES = {
    "ask_human": "轉接專人",
    "leave_message": "留言請專人回覆",
    "report_issue": "我要通報問題",
    "feedback_good": "有幫助",
    "feedback_bad": "沒幫助",
    "cancel": "取消不送出",
}
_FORM_FIELDS = {  # actions/case_form.py FIELD_LABELS: the buttons 修改… of the case summary
    "category": "問題類別",
    "location": "地點",
    "description": "狀況描述",
    "photo": "照片",
    "phone": "聯絡電話",
}
_CATEGORY_TITLES = {"其他陳情": "其他問題"}  # domain.yml utter_ask_category's button titles
NONE_OF_THESE = "都不是，我要找專人"  # bot/chat/faq.py clarify_replies' last button


@dataclass(frozen=True, slots=True)
class Line:
    """One bubble. ``key`` is stable across reads (for the agent page's refresh)."""

    key: str
    at: datetime
    who: Who
    text: str
    detail: str = ""  # the bot's decision / the notice's kind / the agent's name
    delivery: Literal["", "pending", "delivered", "failed"] = ""
    choices: tuple[str, ...] = ()  # the buttons the citizen was offered with this bubble

    def as_json(self) -> dict[str, str | list[str]]:
        return {
            "key": self.key,
            "at": self.at.isoformat(),
            "who": self.who,
            "text": self.text,
            "detail": self.detail,
            "delivery": self.delivery,
            "choices": list(self.choices),
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class _Questions:
    """FAQ questions by id, read once per transcript (the suggestions a citizen was offered)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known: dict[str, str] = {}

    def __call__(self, faq_id: str) -> str:
        if faq_id not in self.known:
            row = self.session.get(FaqRow, faq_id)
            self.known[faq_id] = row.question if row is not None else f"題目 {faq_id}（已刪除）"
        return self.known[faq_id]


def _pressed(title: str) -> str:
    return f"（按下「{title}」）"


def _button_text(payload: str, asked: str, question: _Questions) -> str:
    """The button a payload came from, in the words the citizen saw; ``asked`` is the bot's
    message before it (the same /affirm is 同意 under the consent question, 確認送出 elsewhere)."""
    parsed = parse_payload(payload)
    if parsed is None:
        return "（按下一個按鈕）"
    intent, entities = parsed
    if intent == "pick_suggestion" and entities.get("faq_id"):
        return f"（選了建議的問題「{question(entities['faq_id'])}」）"
    if intent == "correct" and entities.get("form_field") in _FORM_FIELDS:
        return _pressed(f"修改{_FORM_FIELDS[entities['form_field']]}")
    if intent == "report_issue" and entities.get("dispatch_category"):
        category = entities["dispatch_category"]
        return _pressed(_CATEGORY_TITLES.get(category, category))
    if intent in {"affirm", "deny"}:
        consent = "同意" in asked
        titles = ("同意", "不同意") if consent else ("確認送出", "否")
        return _pressed(titles[intent == "deny"])
    if intent == "share_location":
        return "（分享了位置）"
    if intent in _BUTTON_TITLES:
        return _pressed(_BUTTON_TITLES[intent])
    return "（按下一個按鈕）"


def _citizen_text(turn: TurnRow, asked: str, question: _Questions) -> str:
    if turn.text.strip():
        return turn.text
    if turn.payload:
        return _button_text(turn.payload, asked, question)
    return "（傳送了位置或照片）"


def _turn_lines(turn: TurnRow, asked: str, question: _Questions) -> list[Line]:
    at = _utc(turn.at)
    detail = turn.decision or turn.intent
    text = _citizen_text(turn, asked, question)
    lines = [Line(f"t{turn.id}", at, "citizen", text, "給專員" if turn.decision == "agent" else "")]
    replies = [text for text in turn.reply if text]
    for n, reply in enumerate(replies):
        choices: tuple[str, ...] = ()
        if turn.decision == "clarify" and turn.candidates and n == len(replies) - 1:
            offered = turn.candidates[:MAX_OFFERED]
            choices = (*(question(faq_id)[:100] for faq_id in offered), NONE_OF_THESE)
        lines.append(Line(f"t{turn.id}.{n}", at, "bot", reply, detail, choices=choices))
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
    question = _Questions(session)
    asked = ""
    for turn in TurnStore(session).transcript(conversation_id):
        lines = _turn_lines(turn, asked, question)
        keyed += [((line.at, 0, turn.id, n), line) for n, line in enumerate(lines)]
        asked = next((line.text for line in reversed(lines) if line.who == "bot"), "")
    for row in NotificationStore(session).for_conversation(conversation_id):
        if row.delivered_via == "reply":
            continue  # the citizen read it in the bot's reply, already in the turn
        keyed += [((line.at, 1, row.id, n), line) for n, line in enumerate(_notification_lines(row))]
    return [line for _, line in sorted(keyed, key=lambda item: item[0])]
