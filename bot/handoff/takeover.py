"""Live takeover: a citizen asks for a person, an agent takes the conversation, replies, hands it back.

Each step is one unit of work that changes the handoff and enqueues what the citizen is told
(a person joined, a person's words, the person left) in the same transaction; the delivery loop
pushes it through the citizen's channel. While an agent holds a conversation the chat service
does not ask the bot: the citizen's messages are logged (decision ``agent``) and the agent reads
them from the transcript.

Nobody waits forever: a request no agent takes within ``handoff.queue_timeout_seconds`` becomes
a case filed with the transcript, and a conversation held by an agent whose inbox stopped
checking in is handed back to the bot. Both are done by the delivery loop's maintenance step,
with conditional updates, so two replicas do each once. An agent counts as gone only when the
presence record (``handoff.presence``) is sure: not while it cannot be read, and not while it is
younger than the window (a Redis that just restarted has forgotten every heartbeat).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.orm import Session

from bot.cases.for_a_person import LEAVE_MESSAGE
from bot.chat.degraded import MESSAGE_FORM_URL
from bot.handoff.hours import availability
from bot.handoff.notifications import filed_text, notify, notify_case_filed
from bot.handoff.presence import presence_for
from bot.messages import MAX_TEXT_CHARS, Link, Reply
from bot.privacy import redact_case_keys
from bot.settings import HandoffSettings
from bot.store.cases import MAX_DESCRIPTION_CHARS, CaseStore, NewCase
from bot.store.conversations import ConversationStore
from bot.store.handoff import HandoffState, HandoffStore, NotHeld
from bot.store.models import CaseRow, HandoffRow, NotificationRow, utcnow
from bot.store.presence import PresenceUnavailable
from bot.store.turns import TurnStore

__all__ = [
    "AGENT_GONE_TEXT",
    "JOINED_TEXT",
    "LEFT_TEXT",
    "MESSAGE_OFFER",
    "UNANSWERED",
    "HumanRequest",
    "Unreachable",
    "agent_reply",
    "expire_queue",
    "file_from_transcript",
    "human_asker",
    "release",
    "release_abandoned",
    "request_human",
    "take",
]

log = logging.getLogger(__name__)

JOINED_TEXT = "客服專員已加入對話，接下來由專人為您服務，請直接輸入您的問題。"
LEFT_TEXT = "客服專員已離開對話，接下來由智慧客服繼續為您服務。需要再找專人時，請輸入「轉真人」。"
AGENT_GONE_TEXT = "客服專員的連線中斷了，對話已交回智慧客服。需要專人協助請再輸入「轉真人」，或撥打 1999（24 小時有人接聽）。"
NO_PLACE = "未提供（線上客服轉接專人）"
MESSAGE_OFFER = (
    f"您可以按「{LEAVE_MESSAGE}」留下想說的話和聯絡電話（會先請您同意），專員上線後會與您聯絡；"
    "留言後會給您案件編號，之後可以用案件編號查詢處理進度。急事請撥打 1999（24 小時有人接聽）。"
)
UNANSWERED = ("out_of_hours", "no_agent")  # how a request nobody could take ended (HandoffRow.ended_by)
TRANSCRIPT_TURNS = 20


class Unreachable(LookupError):
    """The conversation has no channel address (the citizen never wrote through a chat channel)."""


@dataclass(frozen=True, slots=True)
class HumanRequest:
    """What happened to a citizen's request for a person, and what to tell them.

    ``offers_message``: nobody can come, and the citizen is offered to leave a message
    (「留言請專人回覆」: a button in the conversation, the case form's link in degraded mode)."""

    outcome: Literal["queued", "waiting", "held", "out_of_hours", "no_agent"]
    text: str
    position: int = 0

    @property
    def offers_message(self) -> bool:
        return self.outcome in UNANSWERED


def _channel(session: Session, conversation_id: str, fallback: str = "") -> str:
    address = ConversationStore(session).address(conversation_id)
    return address.channel if address else fallback


def _transcript_text(session: Session, conversation_id: str, reason: str) -> str:
    turns = TurnStore(session).transcript(conversation_id)[-TRANSCRIPT_TURNS:]
    # what opens a case (its number, the phone digits of a status check) stays out of the excerpt:
    # agents read the whole conversation on the case's page
    lines = [f"民眾：{redact_case_keys(t.text.strip())}" for t in turns if t.text.strip()]
    head = "民眾在線上客服要求轉接專人" + (f"（{reason}）" if reason else "") + "。對話摘錄：\n"
    body = "\n".join(lines) or "（沒有文字內容）"
    text = head + body
    if len(text) > MAX_DESCRIPTION_CHARS:  # keep the latest lines
        text = head + "…" + body[-(MAX_DESCRIPTION_CHARS - len(head) - 1) :]
    return text


def file_from_transcript(
    session: Session, conversation_id: str, *, channel: str, reason: str, now: datetime | None = None
) -> CaseRow:
    """File a general case carrying the conversation's latest messages, for an agent to follow up."""
    case = NewCase(
        category="general",
        description=_transcript_text(session, conversation_id, reason),
        channel=channel or "web",
        sender_id=conversation_id,
        location_text=NO_PLACE,
        conversation_id=conversation_id,
        origin="conversation",
    )
    return CaseStore(session).file(case, now=now, actor="handoff")


def request_human(
    session: Session,
    conversation_id: str,
    *,
    channel: str,
    settings: HandoffSettings,
    reason: str = "",
    now: datetime | None = None,
) -> HumanRequest:
    """The citizen asked for a person: queue them if one can come. Else nothing is filed: the
    request is counted (a released handoff) and the citizen is told the agents' hours and offered
    to leave a message (``HumanRequest.offers_message``), which asks for a phone and consent
    before anything is filed, or to call 1999."""
    now = now or utcnow()
    handoffs = HandoffStore(session)
    open_row = handoffs.open_for(conversation_id)
    if open_row is not None and open_row.state == HandoffState.HELD.value:
        return HumanRequest("held", "客服專員正在為您服務，請直接輸入訊息。")
    if open_row is not None:
        position = handoffs.queue_position(open_row)
        return HumanRequest("waiting", f"您已在等候客服專員，目前排在第 {position} 位，請稍候。", position)
    now_open = availability(session, settings, now=now)
    if now_open.open:
        row, _ = handoffs.request(
            conversation_id, channel=_channel(session, conversation_id, channel), reason=reason, now=now
        )
        position = handoffs.queue_position(row)
        text = (
            f"好的，已為您轉接客服專員，目前排在第 {position} 位。專員加入時會在這裡通知您；"
            "等候期間，智慧客服仍可以回答您的問題。"
        )
        return HumanRequest("queued", text, position)
    outcome: Literal["out_of_hours", "no_agent"] = "no_agent" if now_open.in_hours else "out_of_hours"
    # nothing is filed without the citizen's word: the request is counted, and they are told
    # how to leave a message (with a phone, if they agree) or to call
    handoffs.unanswered(
        conversation_id,
        channel=_channel(session, conversation_id, channel),
        ended_by=outcome,
        reason=reason,
        now=now,
    )
    why = (
        f"客服專員的線上服務時間是每天 {now_open.hours}（台灣時間），現在沒有專人可以即時接手"
        if outcome == "out_of_hours"
        else "現在客服專員都不在線上，沒有專人可以即時接手"
    )
    return HumanRequest(outcome, f"{why}。{MESSAGE_OFFER}")


def human_asker(settings: HandoffSettings) -> Callable[[Session, str, str], Reply]:
    """``request_human`` as the chat service asks it in degraded mode (Rasa away, a person maybe
    not): (session, conversation id, channel) -> what to tell the citizen (``bot.chat.service.AskHuman``).
    When nobody can come, 「留言請專人回覆」 is a link to the case form, which asks for the
    message, a phone and consent before filing."""

    def ask(session: Session, conversation_id: str, channel: str) -> Reply:
        asked = request_human(session, conversation_id, channel=channel, settings=settings)
        links = [Link(title=LEAVE_MESSAGE, url=MESSAGE_FORM_URL)] if asked.offers_message else []
        return Reply(kind="handoff", text=asked.text, links=links)

    return ask


def take(
    session: Session,
    conversation_id: str,
    agent: str,
    *,
    settings: HandoffSettings,
    now: datetime | None = None,
) -> HandoffRow:
    """The agent takes the conversation from the bot (or from the queue); the citizen is told.

    Raises ``Unreachable`` (no channel to reply on) or ``HandoffConflict`` (another agent has it).
    """
    now = now or utcnow()
    address = ConversationStore(session).address(conversation_id)
    if address is None:
        raise Unreachable("this conversation cannot be reached on any channel")
    row, fresh = HandoffStore(session).take(conversation_id, agent, channel=address.channel, now=now)
    if fresh:
        notify(
            session,
            conversation_id,
            "agent_joined",
            Reply(kind="handoff", text=JOINED_TEXT),
            agent=agent,
            now=now,
        )
        presence_for(session, settings).heartbeat(agent, now=now)
    return row


def agent_reply(
    session: Session, conversation_id: str, agent: str, text: str, *, now: datetime | None = None
) -> NotificationRow:
    """A person's words to the citizen, on the citizen's channel. Raises ``NotHeld`` or ``ValueError``."""
    text = text.strip()
    if not text:
        raise ValueError("the reply is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"the reply is longer than {MAX_TEXT_CHARS} characters")
    if HandoffStore(session).held_by(conversation_id) != agent:
        raise NotHeld("you do not hold this conversation (take it first)")
    row = notify(
        session, conversation_id, "agent_reply", Reply(kind="agent", text=text), agent=agent, now=now
    )
    assert row is not None  # no dedupe key: always enqueued
    return row


def release(session: Session, conversation_id: str, agent: str, *, now: datetime | None = None) -> HandoffRow:
    """The agent hands the conversation back to the bot; the citizen is told. Raises ``NotHeld``."""
    row = HandoffStore(session).release(conversation_id, agent, ended_by="agent", now=now)
    notify(
        session, conversation_id, "agent_left", Reply(kind="handoff", text=LEFT_TEXT), agent=agent, now=now
    )
    return row


def expire_queue(session: Session, settings: HandoffSettings, *, now: datetime | None = None) -> list[str]:
    """Requests nobody took in time become cases; the citizens are told their numbers."""
    now = now or utcnow()
    deadline = now - timedelta(seconds=settings.queue_timeout_seconds)
    store, filed = HandoffStore(session), []
    for row in store.queued():
        requested = row.requested_at
        if requested > deadline:
            break  # oldest first: the rest are younger
        try:
            store.release(row.conversation_id, None, ended_by="no_agent", now=now)
        except NotHeld:
            continue  # taken or expired by someone else meanwhile
        case = file_from_transcript(
            session, row.conversation_id, channel=row.channel, reason="等候逾時", now=now
        )
        store.set_case(row.id, case.number)
        minutes = round(settings.queue_timeout_seconds / 60)
        text = (
            f"抱歉，客服專員目前都在忙線中，{minutes} 分鐘內沒有人能接手。"
            f"{filed_text(case, '我已把這段對話立案')}急事請撥打 1999（24 小時有人接聽）。"
        )
        notify_case_filed(session, case, text=text, now=now)
        filed.append(case.number)
        log.info("handoff request of %s timed out: filed case %s", row.conversation_id, case.number)
    return filed


def release_abandoned(
    session: Session, settings: HandoffSettings, *, now: datetime | None = None
) -> list[str]:
    """Conversations held by agents whose inbox stopped checking in go back to the bot.

    Nothing goes back while the presence record cannot be read or is younger than
    ``handoff.presence_seconds`` (a restarted Redis): absence must be seen, not assumed.
    """
    now = now or utcnow()
    since = now - timedelta(seconds=settings.presence_seconds)
    store, presence, released = HandoffStore(session), presence_for(session, settings), []
    try:
        if not presence.covers(since, now=now):
            log.debug(
                "agents' presence is younger than %g s: nobody counts as gone yet", settings.presence_seconds
            )
            return []
        gone = [row for row in store.held() if not presence.seen_since(row.agent, since)]
    except PresenceUnavailable:  # logged by the record; try again next round
        return []
    for row in gone:
        try:
            store.release(row.conversation_id, row.agent, ended_by="agent_gone", now=now)
        except NotHeld:
            continue
        notify(
            session,
            row.conversation_id,
            "agent_left",
            Reply(kind="handoff", text=AGENT_GONE_TEXT),
            agent=row.agent,
            now=now,
        )
        released.append(row.conversation_id)
        log.warning(
            "agent %s stopped checking in: conversation %s handed back to the bot",
            row.agent,
            row.conversation_id,
        )
    return released
