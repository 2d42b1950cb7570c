"""A deterministic FaqAnswerer for chat tests: answers by shared characters with the question."""

from __future__ import annotations

from bot.chat.faq import FaqCandidate, FaqOutcome
from knowledge.faq import FaqRecord


class OverlapAnswerer:
    def __init__(self, records: list[FaqRecord], answer_at: float = 0.6, clarify_at: float = 0.3) -> None:
        self.records = {r.id: r for r in records}
        self.answer_at, self.clarify_at = answer_at, clarify_at

    def _score(self, text: str, record: FaqRecord) -> float:
        best = 0.0
        for question in record.texts():
            shared = set(text) & set(question)
            best = max(best, len(shared) / max(1, len(set(question))))
        return best

    def answer(self, text: str) -> FaqOutcome:
        ranked = sorted(((self._score(text, r), r) for r in self.records.values()), key=lambda p: -p[0])
        candidates = [FaqCandidate(r.id, r.question, s) for s, r in ranked[:3] if s > 0]
        if not candidates or candidates[0].score < self.clarify_at:
            return FaqOutcome("abstain", candidates)
        if candidates[0].score >= self.answer_at:
            return FaqOutcome("answer", candidates, self.records[candidates[0].faq_id])
        return FaqOutcome("clarify", candidates)

    def get(self, faq_id: str) -> FaqRecord | None:
        return self.records.get(faq_id)
