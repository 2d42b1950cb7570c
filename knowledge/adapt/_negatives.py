"""False negatives out, hard negatives in, both read off the base encoder's question vectors.

Near-duplicate entries (the same normalised question, or question vectors closer than
``duplicate_cosine`` under the base model) fall in one *group*: the loss never treats an
entry of the same group as a negative, and no negative is mined from it. The hard negative
of an entry is a close sibling under the base model — among its own agency's entries when it
has any, else among all — picked with a seed among the ``pool`` nearest.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from knowledge.encoder._protocol import Vectors
from knowledge.faq import FaqRecord
from knowledge.normalize import question_key

__all__ = ["duplicate_groups", "hard_negatives"]


def duplicate_groups(records: Sequence[FaqRecord], vectors: Vectors, duplicate_cosine: float) -> list[int]:
    """A group number per entry; entries with equal normalised questions or cosine ≥ ``duplicate_cosine`` share one."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(a: int, b: int) -> None:
        parent[root(a)] = root(b)

    first: dict[str, int] = {}
    for n, record in enumerate(records):
        key = question_key(record.question)
        if key in first:
            join(n, first[key])
        else:
            first[key] = n
    if len(records) > 1:
        similar = vectors @ vectors.T
        rows, cols = np.nonzero(np.triu(similar >= duplicate_cosine, k=1))
        for a, b in zip(rows.tolist(), cols.tolist(), strict=True):
            join(a, b)
    roots = [root(n) for n in range(len(records))]
    numbering = {r: k for k, r in enumerate(dict.fromkeys(roots))}
    return [numbering[r] for r in roots]


def hard_negatives(
    records: Sequence[FaqRecord], vectors: Vectors, groups: Sequence[int], seed: int, pool: int = 3
) -> list[int | None]:
    """For each entry, a close entry of another group (same agency preferred), or ``None`` if there is none."""
    rng = random.Random(seed)
    similar = vectors @ vectors.T
    agencies = np.array([record.agency for record in records], dtype=object)
    group = np.asarray(groups)
    out: list[int | None] = []
    for n, record in enumerate(records):
        allowed = group != group[n]
        siblings = allowed & (agencies == record.agency) if record.agency else allowed
        choice = siblings if siblings.sum() >= pool else allowed
        candidates = np.flatnonzero(choice)
        if candidates.size == 0:
            out.append(None)
            continue
        nearest = candidates[np.argsort(-similar[n, candidates], kind="stable")[:pool]]
        out.append(int(rng.choice(nearest.tolist())))
    return out
