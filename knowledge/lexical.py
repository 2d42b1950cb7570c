"""Traditional-Chinese BM25 over FAQ questions and answers.

Text is normalised with :func:`knowledge.normalize.for_retrieval` (folded, synonyms
applied), then analysed twice: jieba words (segmented on a Simplified copy, where jieba's
dictionary is strongest) and character bigrams, which survive segmentation errors and
typos. Each (field, analyser) pair is its own BM25 index; a document's score is the
weighted sum. Documents can be added, replaced or removed one at a time.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from knowledge.normalize import for_retrieval, to_simplified

__all__ = ["LexicalConfig", "LexicalIndex", "bigrams", "words"]

log = logging.getLogger(__name__)

FIELDS = ("question", "answer")
ANALYSERS = ("word", "bigram")
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class LexicalConfig:
    """BM25 parameters and field / analyser weights."""

    k1: float = 1.2
    b: float = 0.75
    question_weight: float = 1.0
    answer_weight: float = 0.3
    word_weight: float = 1.0
    bigram_weight: float = 1.0

    def weight(self, field: str, analyser: str) -> float:
        f = self.question_weight if field == "question" else self.answer_weight
        a = self.word_weight if analyser == "word" else self.bigram_weight
        return f * a


@lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba words of normalised text (as Simplified strings), spaces dropped."""
    jieba = _jieba()
    return [w for w in jieba.cut(to_simplified(text)) if w.strip()]  # type: ignore[attr-defined]


def bigrams(text: str) -> list[str]:
    """Character bigrams inside each space-separated chunk; one-character chunks stay unigrams."""
    out: list[str] = []
    for chunk in text.split():
        if len(chunk) == 1:
            out.append(chunk)
        out.extend(chunk[i : i + 2] for i in range(len(chunk) - 1))
    return out


_ANALYSE: dict[str, Callable[[str], list[str]]] = {"word": words, "bigram": bigrams}


class _Field:
    """Postings of one (field, analyser) pair: term → {slot: term frequency}, and slot lengths."""

    def __init__(self) -> None:
        self.postings: dict[str, dict[int, int]] = {}
        self.lengths = np.zeros(0, dtype=np.float32)
        self.total = 0.0

    def put(self, slot: int, counts: Counter[str]) -> None:
        if slot >= len(self.lengths):
            self.lengths = np.concatenate([self.lengths, np.zeros(max(64, slot + 1), np.float32)])
        for term, tf in counts.items():
            self.postings.setdefault(term, {})[slot] = tf
        length = float(sum(counts.values()))
        self.lengths[slot] = length
        self.total += length

    def drop(self, slot: int, counts: Counter[str]) -> None:
        for term in counts:
            holders = self.postings.get(term)
            if holders is not None:
                holders.pop(slot, None)
                if not holders:
                    del self.postings[term]
        self.total -= float(self.lengths[slot])
        self.lengths[slot] = 0.0


class LexicalIndex:
    """BM25 over question (+ alternative questions) and answer fields of many documents.

    Postings hold raw term frequencies; BM25 weights are computed at query time for the
    query's terms only, so adding, replacing or removing a document touches only its own
    terms and needs no recompilation.
    """

    def __init__(
        self, config: LexicalConfig | None = None, rewrite: Callable[[str], str] | None = None
    ) -> None:
        self.config = config or LexicalConfig()
        self._rewrite = rewrite
        self._fields = {(f, a): _Field() for f in FIELDS for a in ANALYSERS}
        self._counts: dict[str, dict[tuple[str, str], Counter[str]]] = {}
        self._slots: dict[str, int] = {}
        self._ids: list[str] = []  # slot → document id ("" for a free slot)
        self._free: list[int] = []
        self.generation = 0  # bumped when a document's slot changes

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def ids(self) -> list[str]:
        """Document id of each row of :meth:`scores` ("" marks a free row, which always scores 0)."""
        return self._ids

    def row(self, doc_id: str) -> int:
        """The row of ``doc_id`` in :meth:`scores` (``KeyError`` if unknown)."""
        return self._slots[doc_id]

    def normalise(self, text: str) -> str:
        return for_retrieval(text, self._rewrite)

    def set(self, doc_id: str, questions: Sequence[str], answer: str) -> None:
        """Add or replace one document."""
        texts = {"question": self.normalise(" ".join(questions)), "answer": self.normalise(answer)}
        counts = {key: Counter(_ANALYSE[key[1]](texts[key[0]])) for key in self._fields}
        self.remove(doc_id)
        slot = self._free.pop() if self._free else len(self._ids)
        if slot == len(self._ids):
            self._ids.append(doc_id)
        self._ids[slot] = doc_id
        self._slots[doc_id] = slot
        self.generation += 1
        self._counts[doc_id] = counts
        for key, field in self._fields.items():
            field.put(slot, counts[key])

    def set_many(self, docs: Iterable[tuple[str, Sequence[str], str]]) -> None:
        for doc_id, questions, answer in docs:
            self.set(doc_id, questions, answer)

    def remove(self, doc_id: str) -> None:
        slot = self._slots.pop(doc_id, None)
        if slot is None:
            return
        counts = self._counts.pop(doc_id)
        for key, field in self._fields.items():
            field.drop(slot, counts[key])
        self._ids[slot] = ""
        self._free.append(slot)
        self.generation += 1

    def scores(self, query: str) -> Scores:
        """BM25 score of every row (documents as in :attr:`ids`) for ``query``."""
        return self.scores_normalised(self.normalise(query))

    def scores_normalised(self, text: str) -> Scores:
        """:meth:`scores` of a query already passed through :meth:`normalise`."""
        total = np.zeros(len(self._ids), dtype=np.float32)
        n = len(self._slots)
        if n == 0:
            return total
        k1, b = self.config.k1, self.config.b
        for (name, analyser), field in self._fields.items():
            weight = self.config.weight(name, analyser)
            if weight == 0.0:
                continue
            average = field.total / n if field.total > 0 else 1.0
            for term in set(_ANALYSE[analyser](text)):
                holders = field.postings.get(term)
                if not holders:
                    continue
                rows = np.fromiter(holders.keys(), dtype=np.int64, count=len(holders))
                tf = np.fromiter(holders.values(), dtype=np.float32, count=len(holders))
                idf = math.log(1.0 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
                norm = k1 * (1.0 - b + b * field.lengths[rows] / average)
                total[rows] += weight * idf * tf * (k1 + 1.0) / (tf + norm)
        return total

    def field_scores(self, text: str, doc_ids: Sequence[str]) -> dict[str, Scores]:
        """BM25 of a normalised query per field (analysers summed, unweighted) for ``doc_ids`` only."""
        n = len(self._slots)
        out = {name: np.zeros(len(doc_ids), dtype=np.float32) for name in FIELDS}
        if n == 0:
            return out
        slots = [self._slots.get(doc_id, -1) for doc_id in doc_ids]
        k1, b = self.config.k1, self.config.b
        for (name, analyser), field in self._fields.items():
            average = field.total / n if field.total > 0 else 1.0
            column = out[name]
            for term in set(_ANALYSE[analyser](text)):
                holders = field.postings.get(term)
                if not holders:
                    continue
                idf = math.log(1.0 + (n - len(holders) + 0.5) / (len(holders) + 0.5))
                for i, slot in enumerate(slots):
                    tf = holders.get(slot)
                    if tf:
                        norm = k1 * (1.0 - b + b * float(field.lengths[slot]) / average)
                        column[i] += idf * tf * (k1 + 1.0) / (tf + norm)
        return out

    def coverage(self, query: str) -> float:
        """Share of the query's bigrams that occur in some document's question field."""
        grams = set(bigrams(self.normalise(query)))
        if not grams:
            return 0.0
        known = self._fields[("question", "bigram")].postings
        return sum(1 for g in grams if g in known) / len(grams)
