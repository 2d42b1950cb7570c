"""Training examples built from the knowledge base alone: never from queries anyone asked.

Each example is an anchor read as a query (``query: ``), a positive read as a passage
(``passage: ``) and the entry the positive belongs to. The kinds, with the passages the
retriever indexes (a FAQ's question texts and its first answer passages, as
:class:`~knowledge.retriever.Retriever` cuts them):

- ``question→answer``: each question text (question and alternative questions) to the
  entry's first answer passage — what the citizen asks to what the answer says;
- ``alternative→question``: each alternative question to the entry's question, and the
  question to its first alternative — phrasings of one question are one point;
- ``sentence→question``: one sentence of the answer (seeded pick among the sentences of
  moderate length) to the question — so that a key word only the answer holds (a hotline,
  a route, a district) leads to its entry.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.faq import FaqRecord
from knowledge.passages import answer_passages

__all__ = ["KINDS", "TrainingPair", "training_pairs"]

KINDS = ("question→answer", "alternative→question", "sentence→question")
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")
MIN_SENTENCE_CHARS = 8
MAX_SENTENCE_CHARS = 80


@dataclass(frozen=True)
class TrainingPair:
    anchor: str  # read as a query
    positive: str  # read as a passage
    entry: int  # index of the entry (in the records given) the positive belongs to
    kind: str  # one of KINDS; the positive's side decides which text of a negative stands in for it

    @property
    def positive_is_question(self) -> bool:
        return self.kind != "question→answer"


def answer_sentences(answer: str) -> list[str]:
    """The answer's sentences of moderate length (the ones a citizen might echo)."""
    sentences = (s.strip() for s in _SENTENCE.findall(answer))
    return [s for s in sentences if MIN_SENTENCE_CHARS <= len(s) <= MAX_SENTENCE_CHARS]


def first_passage(record: FaqRecord, passage_chars: int = 150) -> str:
    passages = answer_passages(record.answer, max_chars=passage_chars, max_passages=1)
    return passages[0] if passages else record.answer[:passage_chars]


def training_pairs(
    records: Sequence[FaqRecord], seed: int, kinds: Sequence[str] = KINDS, passage_chars: int = 150
) -> list[TrainingPair]:
    """The examples of ``kinds`` for ``records``, in a fixed order (``seed`` only picks the answer sentence)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown pair kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    rng = random.Random(seed)
    pairs: list[TrainingPair] = []
    for n, record in enumerate(records):
        if "question→answer" in kinds:
            passage = first_passage(record, passage_chars)
            pairs += [TrainingPair(text, passage, n, "question→answer") for text in record.texts()]
        if "alternative→question" in kinds and record.alt_questions:
            pairs += [
                TrainingPair(alt, record.question, n, "alternative→question") for alt in record.alt_questions
            ]
            pairs.append(TrainingPair(record.question, record.alt_questions[0], n, "alternative→question"))
        if "sentence→question" in kinds:
            sentences = [s for s in answer_sentences(record.answer) if s != record.question]
            if sentences:
                pairs.append(TrainingPair(rng.choice(sentences), record.question, n, "sentence→question"))
    return pairs
