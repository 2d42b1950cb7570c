"""FAQ answering as the chat sees it: a Protocol over retrieval, and the replies it produces.

The same reply builders serve the Rasa actions and degraded mode, so a citizen sees the
same answer whichever path served it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.messages import Button, Link, Reply, pick_payload
from knowledge.faq import FaqRecord

__all__ = [
    "FaqAnswerer",
    "FaqCandidate",
    "FaqOutcome",
    "abstain_replies",
    "answer_replies",
    "clarify_replies",
    "FEEDBACK_PROMPT",
    "MAX_OFFERED",
]

Decision = Literal["answer", "clarify", "abstain"]
FEEDBACK_PROMPT = "這個回答有幫助嗎？"
MAX_OFFERED = 5  # "did you mean" buttons at most (retrieval offers 2 to clarify_candidates of them)


@dataclass(frozen=True, slots=True)
class FaqCandidate:
    faq_id: str
    question: str
    score: float


@dataclass(frozen=True, slots=True)
class FaqOutcome:
    decision: Decision
    candidates: list[FaqCandidate] = field(default_factory=list)
    answer: FaqRecord | None = None


class FaqAnswerer(Protocol):
    """Retrieval behind a swap point: decide on a question, fetch an entry by id."""

    def answer(self, text: str) -> FaqOutcome: ...

    def get(self, faq_id: str) -> FaqRecord | None: ...


def answer_replies(record: FaqRecord) -> list[Reply]:
    """The answer, who handles it and where to read more, then the feedback buttons."""
    footer = f"（資料來源：{record.agency}）" if record.agency else ""
    links = [Link(title="詳細說明", url=record.source_url)] if record.source_url.startswith("http") else []
    return [
        Reply(kind="answer", text=f"{record.answer}\n{footer}".strip(), links=links),
        Reply(
            kind="feedback",
            text=FEEDBACK_PROMPT,
            buttons=[
                Button(title="有幫助", payload="/feedback_good"),
                Button(title="沒幫助", payload="/feedback_bad"),
            ],
        ),
    ]


def clarify_replies(candidates: list[FaqCandidate]) -> list[Reply]:
    buttons = [
        Button(title=c.question[:100], payload=pick_payload(c.faq_id)) for c in candidates[:MAX_OFFERED]
    ]
    buttons.append(Button(title="都不是，我要找專人", payload="/ask_human"))
    return [Reply(kind="clarify", text="請問您想問的是下面哪一個？", buttons=buttons)]


def abstain_replies() -> list[Reply]:
    return [
        Reply(
            kind="abstain",
            text="抱歉，這個問題我的資料裡找不到可靠的答案。您可以換個說法再問一次，或讓我們幫您轉交專人處理。",
            buttons=[
                Button(title="我要反映問題／報案", payload="/report_issue"),
                Button(title="轉接專人", payload="/ask_human"),
            ],
        )
    ]
