"""One JSON line per evaluated query: what was decided, how sure, and the evidence of the top five.

``bot1999 evaluate --details FILE`` writes them (docs/knowledge-base.md, "Reading the
details"): the decision and the rule behind it, the confidence and the evidence against the
thresholds, where the right FAQ was ranked (among the ten the decision reads, and among the
first stage's candidates), and for each of the top five its first-stage scores, the
phrasing its dense score came from, the second stage's score and its feature values.
"""

from __future__ import annotations

import json
from typing import IO, TypedDict

from knowledge.evaluate import EvalCase, gold_ids
from knowledge.rerank import FEATURES
from knowledge.retriever import Candidate, Decision, Retriever

__all__ = ["TOP", "CandidateDetail", "QueryDetail", "DetailWriter", "query_detail"]

TOP = 5  # candidates described per query


class CandidateDetail(TypedDict):
    """One ranked candidate of a query."""

    rank: int  # 1-based, in the final order (re-ranked when the second stage ran)
    faq_id: str
    duplicates: list[str]  # FAQs with the same question that collapsed into it
    question: str
    right: bool  # it (or a duplicate) is one of the case's gold ids
    score: float  # fused first-stage score
    dense_question: float  # best cosine with the question or an alternative question
    dense_answer: float  # best cosine with an answer passage
    lexical: float  # raw BM25 score
    matched: str  # the phrasing behind dense_question (normalised: letters and digits)
    rerank: float | None  # the second stage's score (None when it is off)
    features: dict[str, float]  # the second stage's features, by name (empty when it is off)


class QueryDetail(TypedDict):
    """One evaluated query."""

    query: str
    gold: list[str]  # right FAQ ids; empty for an out-of-scope message
    group: str  # style of an in-scope query, kind of an out-of-scope one
    decision: str  # answer / clarify / abstain
    reason: str  # the rule that decided (knowledge.retrieval_types.Decision)
    confidence: float
    answer_confidence: float  # the threshold the confidence was held against
    evidence: float | None  # None when nothing was found at all
    abstain_below: float  # the threshold the evidence was held against
    offered: list[str]  # the answered FAQ, or the "did you mean" list
    decided_right: bool  # the answer, or one of the offered, is right
    rank: int | None  # rank of the first right FAQ among the ten ranked candidates
    first_stage_rank: int | None  # its rank among the first stage's candidates (before re-ranking)
    latency_ms: float
    top: list[CandidateDetail]


def _rank(candidates: list[Candidate], gold: set[str]) -> int | None:
    return next((i for i, c in enumerate(candidates, 1) if gold & set(c.ids)), None)


def query_detail(
    retriever: Retriever, case: EvalCase, candidates: list[Candidate], decision: Decision, latency_ms: float
) -> QueryDetail:
    """The detail line of one query that ``retriever`` ranked as ``candidates`` and decided as ``decision``."""
    query = case["query"]
    gold = gold_ids(case)
    config = retriever.config
    pool = retriever.first_stage(query, max(len(candidates), config.rerank_depth))
    features: dict[str, dict[str, float]] = {}
    if config.rerank and len(pool) > 1:
        names = retriever.reranker.weights.features
        rows = retriever.rerank_features(query, pool)
        columns = [FEATURES.index(name) for name in names]
        features = {
            c.faq_id: {name: round(float(rows[i, col]), 4) for name, col in zip(names, columns, strict=True)}
            for i, c in enumerate(pool)
        }
    top: list[CandidateDetail] = []
    for rank, c in enumerate(candidates[:TOP], 1):
        record = retriever.record(c.faq_id)
        top.append(
            CandidateDetail(
                rank=rank,
                faq_id=c.faq_id,
                duplicates=list(c.duplicates),
                question=record.question if record is not None else "",
                right=bool(gold & set(c.ids)),
                score=round(c.score, 5),
                dense_question=round(c.dense_question, 5),
                dense_answer=round(c.dense_answer, 5),
                lexical=round(c.lexical, 4),
                matched=c.matched,
                rerank=None if c.rerank is None else round(c.rerank, 4),
                features=features.get(c.faq_id, {}),
            )
        )
    return QueryDetail(
        query=query,
        gold=sorted(gold),
        group=case.get("style", "unlabelled") if gold else case.get("kind", "unlabelled"),
        decision=decision.kind,
        reason=decision.reason,
        confidence=round(decision.confidence, 4),
        answer_confidence=config.answer_confidence,
        evidence=round(config.evidence(candidates), 4) if candidates else None,
        abstain_below=config.abstain_below,
        offered=[c.faq_id for c in decision.candidates],
        decided_right=any(gold & set(c.ids) for c in decision.candidates),
        rank=_rank(candidates, gold),
        first_stage_rank=_rank(pool, gold),
        latency_ms=round(latency_ms, 2),
        top=top,
    )


class DetailWriter:
    """An :data:`~knowledge.evaluate.Observer` writing one :class:`QueryDetail` JSON line per query."""

    def __init__(self, retriever: Retriever, out: IO[str]) -> None:
        self.retriever = retriever
        self.out = out
        self.lines = 0

    def __call__(
        self, case: EvalCase, candidates: list[Candidate], decision: Decision, latency_ms: float
    ) -> None:
        detail = query_detail(self.retriever, case, candidates, decision, latency_ms)
        self.out.write(json.dumps(detail, ensure_ascii=False) + "\n")
        self.lines += 1
