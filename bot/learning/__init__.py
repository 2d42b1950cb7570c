"""Learning from failure: the questions the bot failed on, grouped by meaning, and what staff did.

For the dashboard and anything else that wants the top unanswered questions::

    from bot.learning import top_clusters
    top_clusters(session, since, until, limit=10, *, channel="", reason="", threshold=0.3)
        -> list[FailureCluster]

``since``/``until`` are aware datetimes (``[since, until)``; naive ones are taken as UTC);
``reason`` is ``abstain``, ``clarify`` or ``negative`` (negative feedback), or "" for all;
pass ``threshold=settings.learning.cluster_threshold`` to follow the operator's setting. A
``FailureCluster`` has ``id``, ``label`` (the most asked phrasing, redacted), ``count``
(failed questions), ``senders`` (distinct citizens), ``reasons`` and ``channels`` (counts),
``phrasings`` (each ``text``, ``count``, ``senders``, ``last_seen``), ``examples(n)``,
``suggested_faq`` (the FAQ the bot or the citizens' picks pointed to most often, "" if
none) with ``suggested_count``, ``first_seen``, ``last_seen`` and ``recurring``. Handled
clusters (see :mod:`bot.learning.resolutions`) are left out.

Modules: ``failures`` reads failed questions from the turn log; ``features`` and
``clustering`` group them (Chinese-aware TF-IDF over jieba words and character bigrams of
normalised text, deterministic incremental centroid clustering); ``resolutions`` records
what staff did; ``queue`` puts it together; ``actions`` changes the knowledge base.
"""

from __future__ import annotations

from bot.learning.clustering import ClusterConfig
from bot.learning.failures import REASONS, FailedQuestion, failed_questions
from bot.learning.features import Featuriser
from bot.learning.queue import (
    FailureCluster,
    Phrasing,
    QueueCache,
    QueueResult,
    build_clusters,
    load_queue,
    top_clusters,
)
from bot.learning.resolutions import ACTIONS, ResolutionStore

__all__ = [
    "ACTIONS",
    "REASONS",
    "ClusterConfig",
    "FailedQuestion",
    "FailureCluster",
    "Featuriser",
    "Phrasing",
    "QueueCache",
    "QueueResult",
    "ResolutionStore",
    "build_clusters",
    "failed_questions",
    "load_queue",
    "top_clusters",
]
