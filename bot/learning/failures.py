"""The questions the bot failed on, read from the turn log.

A citizen's question failed when the bot abstained on it, had to ask which FAQ was meant
(clarify), or answered it and the citizen said the answer did not help (negative
feedback). Feedback and a picked suggestion arrive as later button turns without text,
so each conversation's turns are walked in order to attach them to the question they
are about: a pick after a clarify records the FAQ the citizen chose; negative feedback on
a picked answer counts against the clarified question. Only redacted text is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.store.models import TurnRow
from knowledge.normalize import question_key

__all__ = ["FailedQuestion", "Reason", "REASONS", "failed_questions"]

Reason = Literal["abstain", "clarify", "negative"]
REASONS: tuple[Reason, ...] = ("abstain", "clarify", "negative")
PICK_PREFIX = "/pick_suggestion"
_CHUNK = 500  # conversation ids per IN (...) query
_FOLLOW_UP = timedelta(hours=1)  # how long after the window a pick or feedback still counts


@lru_cache(maxsize=100_000)
def _key(text: str) -> str:
    return question_key(text)


def aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; they are UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FailedQuestion:
    """One citizen question the bot failed on (``text`` is redacted; ``key`` its normalised form)."""

    turn_id: int
    conversation_id: str
    sender: str
    channel: str
    at: datetime
    text: str
    key: str
    reasons: frozenset[Reason]
    suggested: tuple[str, ...] = ()  # the FAQs the bot offered or answered with, best first
    picked: str = ""  # the FAQ the citizen chose from a clarify question
    answered: str = ""  # the FAQ a negative feedback was about


@dataclass
class _Draft:
    turn: _Turn
    reasons: set[Reason] = field(default_factory=set)
    picked: str = ""
    answered: str = ""


class _Turn(NamedTuple):
    id: int
    conversation_id: str
    sender: str
    channel: str
    at: datetime
    text_redacted: str
    payload: str
    decision: str
    candidates: list[str]
    faq_id: str
    feedback: str


_COLUMNS = (
    TurnRow.id,
    TurnRow.conversation_id,
    TurnRow.sender,
    TurnRow.channel,
    TurnRow.at,
    TurnRow.text_redacted,
    TurnRow.payload,
    TurnRow.decision,
    TurnRow.candidates,
    TurnRow.faq_id,
    TurnRow.feedback,
)


def _chunks(items: list[str], size: int = _CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _conversation_turns(
    session: Session, conversations: Iterable[str], since: datetime, until: datetime
) -> dict[str, list[_Turn]]:
    """The turns of ``conversations`` from ``since`` until a little after ``until``, in order."""
    by_conversation: dict[str, list[_Turn]] = {}
    for chunk in _chunks(sorted(set(conversations))):
        rows = session.execute(
            select(*_COLUMNS)
            .where(
                TurnRow.conversation_id.in_(chunk),
                TurnRow.at >= since,
                TurnRow.at < until + _FOLLOW_UP,
            )
            .order_by(TurnRow.conversation_id, TurnRow.at, TurnRow.id)
        )
        for row in rows:
            turn = _Turn(*row)
            by_conversation.setdefault(turn.conversation_id, []).append(turn)
    return by_conversation


def _walk(turns: list[_Turn], drafts: dict[int, _Draft], since: datetime, until: datetime) -> None:
    """Note each failed question of one conversation, with the picks and feedback that follow it."""
    question: _Draft | None = None
    for turn in turns:
        if turn.text_redacted.strip():
            question = None
            if since <= aware(turn.at) < until and turn.decision in {"abstain", "clarify", "answer"}:
                question = drafts.setdefault(turn.id, _Draft(turn))
                if turn.decision == "abstain":
                    question.reasons.add("abstain")
                elif turn.decision == "clarify":
                    question.reasons.add("clarify")
                if turn.feedback == "bad":
                    question.reasons.add("negative")
                    question.answered = turn.faq_id
            continue
        if question is None:
            continue
        if turn.payload.startswith(PICK_PREFIX) and turn.faq_id and not question.picked:
            question.picked = turn.faq_id
        if turn.feedback == "bad" and turn.faq_id:
            question.reasons.add("negative")
            question.answered = turn.faq_id


def failed_questions(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    channel: str = "",
    reason: str = "",
    limit: int = 50_000,
) -> tuple[list[FailedQuestion], bool]:
    """The failed questions asked in ``[since, until)``, newest first, and whether ``limit`` cut them.

    ``channel`` and ``reason`` (abstain, clarify or negative) narrow the list. At most the
    conversations of the newest ``limit`` failing turns are read.
    """
    since, until = aware(since), aware(until)
    failing = or_(TurnRow.decision.in_(("abstain", "clarify")), TurnRow.feedback == "bad")
    query = select(TurnRow.conversation_id).where(TurnRow.at >= since, TurnRow.at < until, failing)
    if channel:
        query = query.where(TurnRow.channel == channel)
    newest = session.scalars(query.order_by(TurnRow.at.desc(), TurnRow.id.desc()).limit(limit + 1)).all()
    truncated = len(newest) > limit
    drafts: dict[int, _Draft] = {}
    turns = _conversation_turns(session, newest[:limit], since, until)
    for conversation in sorted(turns):
        _walk(turns[conversation], drafts, since, until)
    out: list[FailedQuestion] = []
    for draft in drafts.values():
        turn = draft.turn
        key = _key(turn.text_redacted)
        if not draft.reasons or not key or (channel and turn.channel != channel):
            continue
        if reason and reason not in draft.reasons:
            continue
        suggested = tuple(str(c) for c in (turn.candidates or []) if c)
        if draft.answered and draft.answered not in suggested:
            suggested = (draft.answered, *suggested)
        out.append(
            FailedQuestion(
                turn_id=turn.id,
                conversation_id=turn.conversation_id,
                sender=turn.sender,
                channel=turn.channel,
                at=aware(turn.at),
                text=turn.text_redacted.strip(),
                key=key,
                reasons=frozenset(draft.reasons),
                suggested=suggested,
                picked=draft.picked,
                answered=draft.answered,
            )
        )
    out.sort(key=lambda q: (q.at, q.turn_id), reverse=True)
    return out[:limit], truncated or len(out) > limit
