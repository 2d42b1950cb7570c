"""The failure queue: failed questions of a period, minus the handled ones, in clusters.

``build_clusters`` is pure (questions in, clusters out); ``top_clusters`` reads the store.
A cluster's ``id`` is derived from its leading phrasing, so the same cluster keeps its id
from one request to the next while its leading phrasing stays the same.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.learning.clustering import ClusterConfig, Item, cluster
from bot.learning.failures import FailedQuestion, failed_questions
from bot.learning.features import Featuriser
from bot.learning.resolutions import ResolutionStore
from bot.privacy import PATTERNS
from bot.store.faqs import FaqStore
from bot.store.models import TurnRow

__all__ = [
    "REDACTION_TAGS",
    "FailureCluster",
    "Phrasing",
    "QueueCache",
    "QueueResult",
    "build_clusters",
    "load_queue",
    "top_clusters",
]

DEFAULT_THRESHOLD = ClusterConfig().threshold
DEFAULT_HINT_WEIGHT = ClusterConfig().hint_weight
HINT_SIZE = 3  # a phrasing's hint: at most this many FAQs
_FEATURISER = Featuriser()  # shared: it remembers the terms of texts it has segmented
REDACTION_TAGS = tuple(f"[{tag}]" for tag in {tag for tag, _ in PATTERNS})


@dataclass(frozen=True)
class Phrasing:
    """One distinct wording in a cluster: how often it failed, by how many people, last when."""

    key: str
    text: str
    count: int
    senders: int
    last_seen: datetime

    @property
    def redacted(self) -> bool:
        """It had personal data taken out: not fit to become an alternative question as it is."""
        return any(tag in self.text for tag in REDACTION_TAGS)


@dataclass(frozen=True)
class FailureCluster:
    """Failed questions that ask the same thing."""

    id: str
    label: str  # the most asked phrasing
    count: int  # failed questions
    senders: int  # distinct (pseudonymous) citizens
    reasons: dict[str, int]
    channels: dict[str, int]
    phrasings: tuple[Phrasing, ...]  # most asked first
    suggested_faq: str  # the FAQ the bot (or the citizens' picks) pointed to most often, or ""
    suggested_count: int
    picked: dict[str, int]  # FAQs citizens chose after a clarify question
    first_seen: datetime
    last_seen: datetime
    recurring: bool  # some of its phrasings were handled before and failed again since

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.phrasings)

    def examples(self, n: int = 3) -> tuple[Phrasing, ...]:
        return self.phrasings[:n]


@dataclass(frozen=True)
class QueueResult:
    clusters: list[FailureCluster]
    questions: int  # failed questions in the period still open
    hidden: int  # failed questions left out because they were handled
    truncated: bool  # only the newest questions of a very busy period were read


def _cluster_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _phrasings(questions: Sequence[FailedQuestion]) -> list[Phrasing]:
    by_key: dict[str, list[FailedQuestion]] = {}
    for question in questions:
        by_key.setdefault(question.key, []).append(question)
    out = []
    for key, group in by_key.items():
        latest = max(group, key=lambda q: (q.at, q.turn_id))
        out.append(Phrasing(key, latest.text, len(group), len({q.sender for q in group}), latest.at))
    return out


def _hint(questions: Sequence[FailedQuestion]) -> frozenset[str]:
    """The FAQs these questions (one phrasing) pointed to: each one's pick, else the bot's offers.

    At most the ``HINT_SIZE`` most frequent (ties by id); empty when the bot had nothing to offer.
    """
    votes: Counter[str] = Counter()
    for question in questions:
        votes.update([question.picked] if question.picked else question.suggested[:HINT_SIZE])
    return frozenset(sorted(votes, key=lambda faq: (-votes[faq], faq))[:HINT_SIZE])


def _summarise(phrasings: list[Phrasing], questions: list[FailedQuestion], recurring: bool) -> FailureCluster:
    phrasings.sort(key=lambda p: (-p.count, p.key))  # as the clustering orders them: a stable id
    reasons: Counter[str] = Counter(r for q in questions for r in q.reasons)
    channels: Counter[str] = Counter(q.channel for q in questions)
    picked: Counter[str] = Counter(q.picked for q in questions if q.picked)
    votes: Counter[str] = Counter()
    for question in questions:  # what citizens chose beats what the bot offered first
        pointer = question.picked or (question.suggested[0] if question.suggested else "")
        if pointer:
            votes[pointer] += 1
    suggested = min(votes, key=lambda faq: (-picked[faq], -votes[faq], faq), default="")
    suggested_count = votes[suggested] if suggested else 0
    times = [q.at for q in questions]
    return FailureCluster(
        id=_cluster_id(phrasings[0].key),
        label=phrasings[0].text,
        count=len(questions),
        senders=len({q.sender for q in questions}),
        reasons=dict(sorted(reasons.items())),
        channels=dict(sorted(channels.items())),
        phrasings=tuple(phrasings),
        suggested_faq=suggested,
        suggested_count=suggested_count,
        picked=dict(sorted(picked.items(), key=lambda kv: (-kv[1], kv[0]))),
        first_seen=min(times),
        last_seen=max(times),
        recurring=recurring,
    )


def build_clusters(
    questions: Sequence[FailedQuestion],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    hint_weight: float = DEFAULT_HINT_WEIGHT,
    featuriser: Featuriser | None = None,
    recurring_keys: frozenset[str] = frozenset(),
    background: Sequence[str] = (),
) -> list[FailureCluster]:
    """Cluster failed questions by meaning; biggest clusters first (ties: most recent, then id).

    ``background`` (the knowledge base's questions) joins the failed phrasings in the document
    frequencies, so that a quiet period's handful of questions is weighed like a busy one's.
    Each phrasing's hint (:class:`ClusterConfig`) is the FAQs its questions pointed to: the
    citizen's pick, else the bot's suggestions.
    """
    phrasings = _phrasings(questions)
    if not phrasings:
        return []
    vectors = (featuriser or _FEATURISER).vectors([p.text for p in phrasings], background)
    by_key: dict[str, list[FailedQuestion]] = {}
    for question in questions:
        by_key.setdefault(question.key, []).append(question)
    items = [Item(p.key, p.count, v, _hint(by_key[p.key])) for p, v in zip(phrasings, vectors, strict=True)]
    clusters = []
    for group in cluster(items, ClusterConfig(threshold=threshold, hint_weight=hint_weight)):
        members = [phrasings[i] for i in group]
        asked = [q for p in members for q in by_key[p.key]]
        clusters.append(_summarise(members, asked, any(p.key in recurring_keys for p in members)))
    clusters.sort(key=lambda c: (-c.count, -c.senders, -c.last_seen.timestamp(), c.id))
    return clusters


def load_queue(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    channel: str = "",
    reason: str = "",
    threshold: float = DEFAULT_THRESHOLD,
    max_questions: int = 50_000,
) -> QueueResult:
    """The open failure clusters of ``[since, until)``: handled phrasings are left out."""
    questions, truncated = failed_questions(
        session, since, until, channel=channel, reason=reason, limit=max_questions
    )
    resolved = ResolutionStore(session).resolved_at(since)
    open_questions = [q for q in questions if q.key not in resolved or q.at > resolved[q.key]]
    recurring = frozenset(q.key for q in open_questions if q.key in resolved)
    background = [text for record in FaqStore(session).published() for text in record.texts()]
    clusters = build_clusters(
        open_questions, threshold=threshold, recurring_keys=recurring, background=background
    )
    return QueueResult(clusters, len(open_questions), len(questions) - len(open_questions), truncated)


def top_clusters(
    session: Session,
    since: datetime,
    until: datetime,
    limit: int = 10,
    *,
    channel: str = "",
    reason: str = "",
    threshold: float = DEFAULT_THRESHOLD,
) -> list[FailureCluster]:
    """The ``limit`` biggest open clusters of failed questions asked in ``[since, until)``."""
    result = load_queue(session, since, until, channel=channel, reason=reason, threshold=threshold)
    return result.clusters[:limit]


class QueueCache:
    """Recent queues by filters, so that reloading a page does not cluster again.

    A queue is made afresh when a resolution is recorded or the knowledge-base version moves
    (staff see their own actions at once), and when new turns arrived and the cached queue
    is older than ``max_age_seconds`` (0: at every new turn). Checking costs three small reads.
    """

    def __init__(
        self, size: int = 16, max_age_seconds: float = 0.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._entries: dict[tuple[object, ...], tuple[float, int, QueueResult]] = {}
        self._lock = threading.Lock()

    def load(
        self,
        session: Session,
        since: datetime,
        until: datetime,
        *,
        channel: str = "",
        reason: str = "",
        threshold: float = DEFAULT_THRESHOLD,
        max_questions: int = 50_000,
    ) -> QueueResult:
        newest_turn = int(session.scalar(select(func.max(TurnRow.id))) or 0)
        newest_resolution = ResolutionStore(session).last_id()
        version = FaqStore(session).kb_version()
        key = (since, until, channel, reason, threshold, max_questions, newest_resolution, version)
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            made, turn, result = cached
            if turn == newest_turn or self._clock() - made < self.max_age_seconds:
                return result
        result = load_queue(
            session,
            since,
            until,
            channel=channel,
            reason=reason,
            threshold=threshold,
            max_questions=max_questions,
        )
        with self._lock:
            self._entries.pop(key, None)
            if len(self._entries) >= self.size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self._clock(), newest_turn, result)
        return result
