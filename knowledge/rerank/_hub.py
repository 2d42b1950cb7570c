"""Hubness of FAQ questions: how close each sits, on average, to its nearest other questions.

A generic question ("如何申請補助？") lies near many others and so comes first for many
unrelated queries; its hub score is high, and the re-ranker learns how much to discount it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["hub_scores"]


def hub_scores(
    matrix: npt.NDArray[np.float32], ids: Sequence[str], k: int = 10, chunk: int = 2048
) -> dict[str, float]:
    """Per FAQ id: the mean cosine of its question rows with their ``k`` nearest rows of other FAQs."""
    n = len(ids)
    if n == 0:
        return {}
    owner = np.unique(np.asarray(ids), return_inverse=True)[1]
    out: dict[str, float] = {}
    take = min(k, n - 1)
    for start in range(0, n, chunk):
        block = matrix[start : start + chunk] @ matrix.T
        same = owner[start : start + chunk, None] == owner[None, :]
        block[same] = -np.inf
        if take <= 0:
            values = np.zeros(block.shape[0])
        else:
            top = -np.partition(-block, take - 1, axis=1)[:, :take]
            values = np.where(np.isfinite(top), top, 0.0).mean(axis=1)
        for row, value in enumerate(values):
            faq_id = ids[start + row]
            out[faq_id] = max(out.get(faq_id, -1.0), float(value))
    return out
