"""What each turn counts for in the supervisors' figures, read from one conversation's turns.

The definitions are the product design's (docs/metrics.md, "Definitions"):

    A *question* is a citizen message routed to FAQ answering. It is *answered* when the bot
    gives an FAQ answer (confidently, or the citizen picks a suggestion); *successfully
    answered* when answered and not followed by negative feedback, a rephrase of the same
    question or a request for a human within the next two turns.

Read against the turn log (docs/metrics.md has the same in the operators' words):

* **question** — a turn whose ``decision`` is ``answer``, ``clarify`` or ``abstain`` (FAQ
  answering decided something), except a suggestion pick (``/pick_suggestion`` payload or
  intent), which is the citizen's choice for the question before it, not a new question.
* **answered** — the question's decision is ``answer``; or it is ``clarify`` and the next turn
  of the conversation is a suggestion pick that the bot answered (``decision == "answer"``).
  The *answering turn* is the question itself or that pick.
* **successfully answered** — answered, and none of the two turns after the answering turn is
  negative feedback (the 沒幫助 button ``/feedback_bad``, or a typed "no" — intent ``deny`` — right
  after the answer, which the conversation design takes as feedback), a rephrase (a question
  whose normalised text equals this one's, or whose retrieval candidates or answer include the
  FAQ just given), or a request for a human (``/ask_human`` payload or intent ``ask_human``).
  Turns that have not happened yet do not count against an answer.
* **feedback** of an answer — the rating stored on the answering turn (good / bad), or a typed
  yes / no (intent ``affirm`` / ``deny``) as the very next turn when no button was pressed.
* **response time** — the turn's latency, except while an agent holds the conversation
  (``decision == "agent"``): the bot does not answer those turns, so they are not timed.
* **category / agency** — every turn is attributed to the topic of its conversation: a question
  to the FAQ it was answered with (the turn's own category/agency when the chat recorded them,
  else the FAQ's), or, when it was not answered, to its best retrieval candidate (a guess;
  blank when retrieval offered none); any other turn to the conversation's latest question so
  far (blank before the first one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.messages import parse_payload
from knowledge.normalize import question_key

__all__ = [
    "QUESTION_DECISIONS",
    "TAIPEI",
    "FaqTopic",
    "TurnFacts",
    "TurnOutcome",
    "command_of",
    "local_day",
    "outcomes",
]

TAIPEI = ZoneInfo("Asia/Taipei")
QUESTION_DECISIONS = frozenset({"answer", "clarify", "abstain"})
AGENT = "agent"  # the decision of a turn logged for the agent holding the conversation
WINDOW = 2  # turns after the answer in which a complaint undoes its success
TEXT_KEY_CHARS = 200
TEXT_SAMPLE_CHARS = 500
FaqTopic = tuple[str, str]  # (category, agency)


@dataclass(frozen=True, slots=True)
class TurnFacts:
    """The columns of a logged turn that the figures read."""

    id: int
    conversation_id: str
    sender: str
    channel: str
    at: datetime
    text_redacted: str = ""
    payload: str = ""
    intent: str = ""
    decision: str = ""
    candidates: list[str] = field(default_factory=list)
    faq_id: str = ""
    category: str = ""
    agency: str = ""
    latency_ms: float | None = None
    degraded: bool = False
    feedback: str = ""


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """One ``metric_turn`` row."""

    turn_id: int
    conversation_id: str
    sender: str
    channel: str
    at: datetime
    day: str
    month: str
    category: str = ""
    agency: str = ""
    question: int = 0
    decision: str = ""
    answered: int = 0
    successful: int = 0
    handoff: int = 0
    feedback: str = ""
    latency_ms: float | None = None
    degraded: int = 0
    text_key: str = ""
    text_sample: str = ""


def command_of(turn: TurnFacts) -> str:
    """The intent a button payload names (``/feedback_bad`` → ``feedback_bad``), else the logged intent."""
    parsed = parse_payload(turn.payload) if turn.payload else None
    return parsed[0] if parsed else turn.intent


def local_day(at: datetime) -> str:
    """The Asia/Taipei date of an instant (a naive one is UTC, as SQLite returns it)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(TAIPEI).date().isoformat()


@lru_cache(maxsize=65536)
def _text_key(text: str) -> str:
    """``question_key`` (folded, letters and digits only); citizens repeat themselves, so cached."""
    return question_key(text)


def _is_pick(turn: TurnFacts) -> bool:
    return command_of(turn) == "pick_suggestion"


def _is_question(turn: TurnFacts) -> bool:
    return turn.decision in QUESTION_DECISIONS and not _is_pick(turn)


def outcomes(turns: Sequence[TurnFacts], faq_topic: Callable[[str], FaqTopic | None]) -> list[TurnOutcome]:
    """The outcome of every turn of ONE conversation; ``turns`` in order (``at``, then ``id``).

    ``faq_topic(faq_id)`` gives an FAQ's (category, agency), or None for an unknown id.
    """

    def topic(turn: TurnFacts, faq_id: str) -> FaqTopic:
        if turn.category or turn.agency:
            return turn.category, turn.agency
        known = faq_topic(faq_id) if faq_id else None
        return known or ("", "")

    keys = [_text_key(t.text_redacted) if _is_question(t) else "" for t in turns]
    commands = [command_of(t) for t in turns]
    context: FaqTopic = ("", "")
    result: list[TurnOutcome] = []
    for i, turn in enumerate(turns):
        day = local_day(turn.at)
        question = _is_question(turn)
        answered = successful = 0
        feedback = text_key = text_sample = ""
        if question:
            answering = _answering_index(turns, i)
            if answering is not None:
                answered = 1
                context = topic(turns[answering], turns[answering].faq_id)
                complaints = range(answering + 1, min(answering + 1 + WINDOW, len(turns)))
                successful = int(not any(_undoes(turns, keys, commands, j, i, answering) for j in complaints))
                feedback = _feedback(turns, commands, answering)
            else:
                context = topic(turn, turn.candidates[0] if turn.candidates else "")
                text_key, text_sample = keys[i][:TEXT_KEY_CHARS], turn.text_redacted[:TEXT_SAMPLE_CHARS]
        result.append(
            TurnOutcome(
                turn_id=turn.id,
                conversation_id=turn.conversation_id,
                sender=turn.sender,
                channel=turn.channel,
                at=turn.at,
                day=day,
                month=day[:7],
                category=context[0],
                agency=context[1],
                question=int(question),
                decision=turn.decision if question else "",
                answered=answered,
                successful=successful,
                handoff=int(commands[i] == "ask_human"),
                feedback=feedback,
                latency_ms=None if turn.decision == AGENT else turn.latency_ms,
                degraded=int(turn.degraded),
                text_key=text_key,
                text_sample=text_sample,
            )
        )
    return result


def _answering_index(turns: Sequence[TurnFacts], i: int) -> int | None:
    turn = turns[i]
    if turn.decision == "answer":
        return i
    if turn.decision == "clarify" and i + 1 < len(turns):
        following = turns[i + 1]
        if _is_pick(following) and following.decision == "answer":
            return i + 1
    return None


def _undoes(
    turns: Sequence[TurnFacts], keys: list[str], commands: list[str], j: int, question: int, answer: int
) -> bool:
    """Whether turn ``j`` (one of the two after the answer) is a complaint about that answer."""
    command = commands[j]
    if command in {"feedback_bad", "ask_human"}:
        return True
    if command == "deny" and j == answer + 1:
        return True
    later = turns[j]
    if not _is_question(later):
        return False
    faq_id = turns[answer].faq_id
    same_text = bool(keys[question]) and keys[j] == keys[question]
    return same_text or (bool(faq_id) and (faq_id in later.candidates or later.faq_id == faq_id))


def _feedback(turns: Sequence[TurnFacts], commands: list[str], answer: int) -> str:
    stored = turns[answer].feedback
    if stored in {"good", "bad"}:
        return stored
    if answer + 1 < len(turns):
        typed = commands[answer + 1]
        if typed == "affirm":
            return "good"
        if typed == "deny":
            return "bad"
    return ""
