"""A faiss index of FAQ vectors (questions, alternative questions, answer passages).

Each FAQ owns a few rows, each tagged with a *kind* ("question" or "answer"). Below
``flat_limit`` vectors the index is an exact ``IndexFlatIP``, recompiled lazily after a
change (a copy of a few MB: milliseconds). Beyond it an ``IndexHNSWFlat`` grows
incrementally; removed or replaced rows are tombstoned and skipped at search time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np

from knowledge.encoder._protocol import Vectors

__all__ = ["DenseHit", "DenseIndex"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DenseHit:
    faq_id: str
    kind: str
    score: float


class DenseIndex:
    """Inner-product search over unit vectors grouped by FAQ id."""

    def __init__(self, dim: int, flat_limit: int = 20_000, hnsw_m: int = 32) -> None:
        self.dim = dim
        self.flat_limit = flat_limit
        self.hnsw_m = hnsw_m
        self._rows: dict[str, tuple[list[str], Vectors]] = {}
        self._size = 0
        self._index: faiss.Index | None = None
        self._owner: list[tuple[str, str]] = []  # faiss row → (faq id, kind)
        self._live: dict[str, list[int]] = {}  # faq id → its faiss rows (HNSW mode)
        self._dead: set[int] = set()
        self.generation = 0  # bumped on every change, so callers can cache what they derive
        self._flat: tuple[Vectors, list[str]] | None = None

    def __len__(self) -> int:
        """Number of live vectors."""
        return self._size

    @property
    def kind(self) -> str:
        return "flat" if self._size <= self.flat_limit else "hnsw"

    def set(self, faq_id: str, kinds: Sequence[str], vectors: Vectors) -> None:
        """Add or replace the rows of one FAQ."""
        if vectors.shape != (len(kinds), self.dim):
            raise ValueError(f"expected {len(kinds)} vectors of {self.dim} dimensions, got {vectors.shape}")
        self.remove(faq_id)
        matrix = np.ascontiguousarray(vectors, dtype=np.float32)
        self.generation += 1
        self._flat = None
        self._rows[faq_id] = (list(kinds), matrix)
        self._size += len(kinds)
        if isinstance(self._index, faiss.IndexHNSWFlat) and self.kind == "hnsw":
            self._append(faq_id, list(kinds), matrix)
        else:
            self._index = None

    def remove(self, faq_id: str) -> None:
        old = self._rows.pop(faq_id, None)
        if old is None:
            return
        self.generation += 1
        self._flat = None
        self._size -= len(old[0])
        if isinstance(self._index, faiss.IndexHNSWFlat):
            self._dead.update(self._live.pop(faq_id, []))
        else:
            self._index = None

    def _append(self, faq_id: str, kinds: list[str], matrix: Vectors) -> None:
        assert self._index is not None
        start = len(self._owner)
        self._index.add(matrix)
        self._owner.extend((faq_id, kind) for kind in kinds)
        self._live[faq_id] = list(range(start, start + len(kinds)))

    def _compile(self) -> faiss.Index:
        if self._index is not None and (self.kind == "hnsw") == isinstance(self._index, faiss.IndexHNSWFlat):
            return self._index
        if self.kind == "flat":
            self._index = faiss.IndexFlatIP(self.dim)
        else:
            self._index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            self._index.hnsw.efSearch = 128
        self._owner, self._live, self._dead = [], {}, set()
        for faq_id, (kinds, matrix) in self._rows.items():
            self._append(faq_id, kinds, matrix)
        log.debug("compiled %s index of %d vectors", self.kind, self._size)
        return self._index

    def vectors(self, faq_id: str) -> Vectors | None:
        """The rows of one FAQ in the order they were set (``None`` if it has none)."""
        rows = self._rows.get(faq_id)
        return rows[1] if rows is not None else None

    def flat(self) -> tuple[Vectors, list[str]]:
        """Every live vector as one matrix, with the FAQ id of each row (cached until a change).

        For exact scoring of all FAQs at once below ``flat_limit``: one matrix-vector product.
        """
        if self._flat is None:
            ids = [faq_id for faq_id, (kinds, _) in self._rows.items() for _ in kinds]
            matrix = (
                np.concatenate([m for _, m in self._rows.values()])
                if self._rows
                else np.zeros((0, self.dim), dtype=np.float32)
            )
            self._flat = (np.ascontiguousarray(matrix, dtype=np.float32), ids)
        return self._flat

    def search(self, query: Vectors, k: int) -> list[DenseHit]:
        """The ``k`` nearest rows to one query vector, best first."""
        index = self._compile()
        if self._size == 0:
            return []
        want = min(k + len(self._dead), index.ntotal)
        scores, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), want)
        hits: list[DenseHit] = []
        for score, row in zip(scores[0], rows[0], strict=True):
            if row < 0 or int(row) in self._dead:
                continue
            faq_id, kind = self._owner[int(row)]
            hits.append(DenseHit(faq_id, kind, float(score)))
            if len(hits) == k:
                break
        return hits
