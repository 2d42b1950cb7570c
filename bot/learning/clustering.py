"""Incremental centroid clustering of questions: deterministic, and fast for many thousands.

Items are visited heaviest first (ties by key, so the result never depends on input
order). Each joins the cluster whose centroid it is most similar to, if that cosine
similarity reaches ``threshold``; otherwise it starts a cluster of its own. Vectors are
TF-IDF word/bigram vectors (:mod:`bot.learning.features`). Only clusters sharing a term
with the item are compared (an inverted index over centroid terms), so the work grows
with the items times the clusters they could belong to, not with the square of the items.

An item may carry a ``hint``: the FAQs the engine offered for it (or the one a citizen
picked). A cluster's hint is the first known hint of its members (heaviest first). Hints that
share an FAQ add ``hint_weight`` to the similarity, disjoint ones take it away: two questions
that merely share words (要去哪裡) but that the engine pointed at different FAQs stay apart,
and two phrasings of one need that share few words but an FAQ come together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.learning.features import SparseVector

__all__ = ["ClusterConfig", "Item", "cluster"]


@dataclass(frozen=True)
class ClusterConfig:
    """``threshold``: the least similarity to a cluster's centroid that joins it (0..1);
    ``hint_weight``: added when the item's hint and the cluster's share an FAQ, taken away when
    both are known and disjoint (0: hints are ignored).

    The defaults were chosen by cross-validated pairwise F1 on the labelled sets of
    ``python -m bench.learning --engine`` (phrasings of one FAQ should share a cluster, others not).
    """

    threshold: float = 0.3
    hint_weight: float = 0.3


@dataclass(frozen=True)
class Item:
    """One distinct question: its ``key`` (normalised form), ``weight`` (how often it was asked)."""

    key: str
    weight: int
    vector: SparseVector
    hint: frozenset[str] = frozenset()  # the FAQs the engine offered for it (or a citizen picked)


@dataclass
class _Centroid:
    members: list[int] = field(default_factory=list)
    hint: frozenset[str] = frozenset()  # the first known hint of its members, heaviest first
    total: SparseVector = field(default_factory=dict)  # sum of the members' vectors
    norm2: float = 0.0  # its squared length


def cluster(items: Sequence[Item], config: ClusterConfig) -> list[list[int]]:
    """Groups of item indexes; each group starts with its heaviest item, groups heaviest first."""
    order = sorted(range(len(items)), key=lambda i: (-items[i].weight, items[i].key))
    centroids: list[_Centroid] = []
    postings: dict[str, dict[int, float]] = {}  # term -> {cluster: the term's weight in its total}
    empty: dict[int, float] = {}
    by_hint: dict[str, list[int]] = {}  # hint -> the clusters led by an item with it
    threshold, hint_weight = config.threshold, config.hint_weight
    for index in order:
        vector, hint = items[index].vector, items[index].hint
        dots: dict[int, float] = {}
        get = dots.get
        for term, weight in vector.items():
            for cid, value in postings.get(term, empty).items():
                dots[cid] = get(cid, 0.0) + weight * value
        if hint and hint_weight > 0:
            for faq in hint:
                for cid in by_hint.get(faq, ()):
                    dots.setdefault(cid, 0.0)
        best, best_score = -1, -math.inf
        for cid, dot in dots.items():
            centroid = centroids[cid]
            score = dot / math.sqrt(centroid.norm2) if centroid.norm2 > 0 else 0.0
            if hint and centroid.hint and hint_weight > 0:
                score += hint_weight if hint & centroid.hint else -hint_weight
            if score > best_score or (score == best_score and cid < best):
                best, best_score = cid, score
        if best < 0 or best_score < threshold:
            best = len(centroids)
            centroids.append(_Centroid())
        centroid = centroids[best]
        centroid.members.append(index)
        if hint and not centroid.hint:
            centroid.hint = hint
            for faq in hint:
                by_hint.setdefault(faq, []).append(best)
        total = centroid.total
        for term, weight in vector.items():
            old = total.get(term, 0.0)
            new = old + weight
            total[term] = new
            centroid.norm2 += new * new - old * old
            postings.setdefault(term, {})[best] = new
    groups = [c.members for c in centroids]
    groups.sort(key=lambda g: (-sum(items[i].weight for i in g), items[g[0]].key))
    return groups
