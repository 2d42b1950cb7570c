"""The top unanswered questions, grouped by meaning with the failure queue's clustering.

Unanswered questions (see ``bot.metrics.outcomes``) are first grouped by their normalised text
(``queries.unanswered``, any filter); the most asked ``phrasings`` of those groups are then
clustered by :mod:`bot.learning` (TF-IDF over jieba words and character bigrams, incremental
centroid clustering), each weighted by how often it was asked. A cluster is as big as the sum
of its phrasings; its label is its most asked phrasing. Rare phrasings beyond the first
``phrasings`` are left out, so a cluster made only of them does not show.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.learning.clustering import ClusterConfig, Item, cluster
from bot.learning.features import Featuriser
from bot.metrics.queries import Filters, UnansweredQuestion, unanswered

__all__ = ["UnansweredCluster", "cluster_unanswered", "unanswered_clusters"]

_FEATURISER = Featuriser()  # remembers the terms of the texts it has segmented


@dataclass(frozen=True, slots=True)
class UnansweredCluster:
    label: str
    count: int  # unanswered questions
    abstained: int  # of which the bot abstained on (the rest: a "did you mean" nobody picked)
    phrasings: tuple[UnansweredQuestion, ...]  # most asked first
    last_day: str


def cluster_unanswered(
    questions: list[UnansweredQuestion], *, threshold: float, limit: int = 10
) -> list[UnansweredCluster]:
    """Cluster grouped questions by meaning; the ``limit`` biggest clusters, biggest first."""
    if not questions:
        return []
    vectors = _FEATURISER.vectors([q.text for q in questions])
    items = [Item(q.key, q.count, vector) for q, vector in zip(questions, vectors, strict=True)]
    clusters = []
    for group in cluster(items, ClusterConfig(threshold=threshold)):
        members = sorted((questions[i] for i in group), key=lambda q: (-q.count, q.key))
        clusters.append(
            UnansweredCluster(
                label=members[0].text,
                count=sum(q.count for q in members),
                abstained=sum(q.abstained for q in members),
                phrasings=tuple(members),
                last_day=max(q.last_day for q in members),
            )
        )
    clusters.sort(key=lambda c: (-c.count, c.phrasings[0].key))
    return clusters[:limit]


def unanswered_clusters(
    session: Session, filters: Filters, *, threshold: float, limit: int = 10, phrasings: int = 400
) -> list[UnansweredCluster]:
    return cluster_unanswered(unanswered(session, filters, limit=phrasings), threshold=threshold, limit=limit)
