"""Traditional-Chinese BM25 over FAQ questions and answers.

Text is normalised with :func:`knowledge.normalize.for_retrieval` (folded, synonyms
applied), then analysed twice: jieba words (segmented on a Simplified copy, where jieba's
dictionary is strongest) and character bigrams, which survive segmentation errors and
typos. Each (field, analyser) pair is its own BM25 index; a document's score is the
weighted sum. Documents can be replaced or removed one at a time: token counts are kept
per document and the postings are recompiled lazily on the next search (milliseconds).
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


@dataclass
class _Postings:
    """One compiled BM25 index: term → (document rows, per-document BM25 weights)."""

    terms: dict[str, tuple[npt.NDArray[np.int32], Scores]]


class LexicalIndex:
    """BM25 over question (+ alternative questions) and answer fields of many documents."""

    def __init__(
        self, config: LexicalConfig | None = None, rewrite: Callable[[str], str] | None = None
    ) -> None:
        self.config = config or LexicalConfig()
        self._rewrite = rewrite
        self._docs: dict[str, dict[tuple[str, str], Counter[str]]] = {}
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._compiled: dict[tuple[str, str], _Postings] | None = None

    def __len__(self) -> int:
        return len(self._docs)

    @property
    def ids(self) -> list[str]:
        """Document ids in the row order of :meth:`scores`."""
        self._compile()
        return self._ids

    def row(self, doc_id: str) -> int:
        """The row of ``doc_id`` in :meth:`scores` (``KeyError`` if unknown)."""
        self._compile()
        return self._rows[doc_id]

    def normalise(self, text: str) -> str:
        return for_retrieval(text, self._rewrite)

    def set(self, doc_id: str, questions: Sequence[str], answer: str) -> None:
        """Add or replace one document."""
        texts = {"question": self.normalise(" ".join(questions)), "answer": self.normalise(answer)}
        self._docs[doc_id] = {
            (field, analyser): Counter(_ANALYSE[analyser](texts[field]))
            for field in FIELDS
            for analyser in ANALYSERS
        }
        self._compiled = None

    def set_many(self, docs: Iterable[tuple[str, Sequence[str], str]]) -> None:
        for doc_id, questions, answer in docs:
            self.set(doc_id, questions, answer)

    def remove(self, doc_id: str) -> None:
        if self._docs.pop(doc_id, None) is not None:
            self._compiled = None

    def _compile(self) -> None:
        if self._compiled is not None:
            return
        self._ids = list(self._docs)
        self._rows = {doc_id: row for row, doc_id in enumerate(self._ids)}
        n = len(self._ids)
        k1, b = self.config.k1, self.config.b
        compiled: dict[tuple[str, str], _Postings] = {}
        for key in ((f, a) for f in FIELDS for a in ANALYSERS):
            counts = [self._docs[i][key] for i in self._ids]
            lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
            avg = float(lengths.mean()) if n and lengths.mean() > 0 else 1.0
            norm = k1 * (1.0 - b + b * lengths / avg)
            rows: dict[str, list[int]] = {}
            tfs: dict[str, list[int]] = {}
            for row, counter in enumerate(counts):
                for term, tf in counter.items():
                    rows.setdefault(term, []).append(row)
                    tfs.setdefault(term, []).append(tf)
            terms: dict[str, tuple[npt.NDArray[np.int32], Scores]] = {}
            for term, term_rows in rows.items():
                r = np.array(term_rows, dtype=np.int32)
                freq = np.array(tfs[term], dtype=np.float32)
                idf = math.log(1.0 + (n - len(r) + 0.5) / (len(r) + 0.5))
                terms[term] = (r, (idf * freq * (k1 + 1.0) / (freq + norm[r])).astype(np.float32))
            compiled[key] = _Postings(terms)
        self._compiled = compiled

    def scores(self, query: str) -> Scores:
        """BM25 score of every document (rows as in :attr:`ids`) for ``query``."""
        self._compile()
        assert self._compiled is not None
        text = self.normalise(query)
        total = np.zeros(len(self._ids), dtype=np.float32)
        for (field, analyser), postings in self._compiled.items():
            weight = self.config.weight(field, analyser)
            if weight == 0.0:
                continue
            for term in set(_ANALYSE[analyser](text)):
                hit = postings.terms.get(term)
                if hit is not None:
                    total[hit[0]] += weight * hit[1]
        return total

    def coverage(self, query: str) -> float:
        """Share of the query's bigrams that occur in some document's question field."""
        self._compile()
        assert self._compiled is not None
        grams = set(bigrams(self.normalise(query)))
        if not grams:
            return 0.0
        known = self._compiled[("question", "bigram")].terms
        return sum(1 for g in grams if g in known) / len(grams)
