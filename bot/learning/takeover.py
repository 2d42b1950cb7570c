"""Would a suggested phrasing take answers away from another entry?

Adding phrasing P to entry F as an alternative question makes F compete for every question
near P. The check asks the engine itself: the phrasings (question and alternative questions)
of the other entries near P are searched as the index stands, then with P added to F (the
index's own ``update``, undone at once), and every one whose top answer moves from its own
entry to F is reported. Run it while nothing else reads the index (``LiveIndex.reading``).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.retriever import Retriever

__all__ = ["Takeover", "takeovers"]


@dataclass(frozen=True)
class Takeover:
    faq_id: str  # the entry that would lose
    question: str  # its phrasing whose top answer would change


def _top(retriever: Retriever, text: str) -> str:
    found = retriever.search(text, k=1)
    return found[0].faq_id if found else ""


def takeovers(retriever: Retriever, phrasing: str, faq_id: str, *, neighbours: int = 5) -> list[Takeover]:
    """The other entries' phrasings whose top answer would become ``faq_id`` with ``phrasing`` added."""
    record = retriever.record(faq_id)
    if record is None:
        return []
    watched: list[tuple[str, str]] = []
    for candidate in retriever.search(phrasing, k=neighbours):
        other = retriever.record(candidate.faq_id)
        if other is None or other.id == faq_id:
            continue
        watched += [(other.id, text) for text in other.texts() if _top(retriever, text) == other.id]
    if not watched:
        return []
    retriever.update(record.model_copy(update={"alt_questions": [*record.alt_questions, phrasing]}))
    try:
        return [Takeover(owner, text) for owner, text in watched if _top(retriever, text) == faq_id]
    finally:
        retriever.update(record)
