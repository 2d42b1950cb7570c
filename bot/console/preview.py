"""How the bot will answer: a question against the live index, and a draft as citizens will see it.

The replies are built by the same functions the chat uses (``bot.chat.faq``), so the preview
shows exactly the text, buttons and links a citizen gets (in degraded mode the chat adds
only its notice in front).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.chat.emergency import EMERGENCY_REPLY, looks_like_emergency
from bot.chat.faq import FaqCandidate, abstain_replies, answer_replies, clarify_replies
from bot.kb_index import LiveIndex
from bot.messages import Reply
from knowledge.faq import FaqRecord

__all__ = ["Answer", "QuestionCheck", "ask", "check_questions", "draft_replies"]

SHOWN_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Answer:
    """The bot's decision on ``question``, its replies, and the candidates it weighed."""

    question: str
    decision: str  # answer, clarify, abstain or emergency
    confidence: float
    replies: list[Reply]
    candidates: list[FaqCandidate] = field(default_factory=list)
    answered_id: str = ""


@dataclass(frozen=True, slots=True)
class QuestionCheck:
    """What the live bot does today with one of a draft's phrasings."""

    question: str
    decision: str
    top_id: str
    top_question: str

    def finds(self, faq_id: str) -> bool:
        return self.top_id == faq_id


def ask(index: LiveIndex, question: str) -> Answer:
    question = question.strip()
    if looks_like_emergency(question):
        return Answer(question, "emergency", 1.0, [EMERGENCY_REPLY])
    decision, weighed = index.inspect(question)
    candidates = []
    for candidate in weighed[:SHOWN_CANDIDATES]:
        record = index.get(candidate.faq_id)
        if record is not None:
            candidates.append(FaqCandidate(candidate.faq_id, record.question, candidate.score))
    best = index.get(decision.best.faq_id) if decision.kind == "answer" and decision.best else None
    if best is not None:
        replies = answer_replies(best)
    elif decision.kind == "clarify":
        offered = [c for c in candidates if c.faq_id in {d.faq_id for d in decision.candidates}]
        replies = clarify_replies(offered)
    else:
        replies = abstain_replies()
    kind = "answer" if best is not None else ("clarify" if decision.kind == "clarify" else "abstain")
    return Answer(question, kind, decision.confidence, replies, candidates, best.id if best else "")


def draft_replies(record: FaqRecord) -> list[Reply]:
    """The replies a citizen gets when the bot answers with ``record``."""
    return answer_replies(record)


def check_questions(index: LiveIndex, record: FaqRecord, limit: int = 10) -> list[QuestionCheck]:
    """For each of ``record``'s phrasings: which entry the live bot answers (or offers) first today."""
    checks = []
    for text in record.texts()[:limit]:
        decision, weighed = index.inspect(text)
        top = weighed[0] if weighed else None
        top_record = index.get(top.faq_id) if top is not None else None
        checks.append(
            QuestionCheck(
                text,
                decision.kind,
                top.faq_id if top is not None else "",
                top_record.question if top_record is not None else "",
            )
        )
    return checks
