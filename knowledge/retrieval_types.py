"""Typed results and settings of FAQ retrieval, and the answer / clarify / abstain policy.

The defaults of :class:`RetrieverConfig` are the values tuned on the Kaohsiung dev set
(``python -m bench.retrieval`` for the fusion, ``python -m bench.rerank`` for the second
stage and the decision); every number here is a weight or a threshold, nothing is fitted to
individual queries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from knowledge.lexical import LexicalConfig

__all__ = ["BuildStats", "Candidate", "Decision", "DecisionKind", "RetrieverConfig"]

DecisionKind = Literal["answer", "clarify", "abstain"]


@dataclass(frozen=True)
class Candidate:
    """One FAQ proposed for a query, with the evidence behind its fused ``score``."""

    faq_id: str
    score: float
    dense_question: float  # best cosine with the question or an alternative question
    dense_answer: float  # best cosine with an answer passage
    lexical: float  # raw BM25 score
    duplicates: tuple[str, ...] = ()
    rerank: float | None = None  # the second stage's score, when it re-ranked the candidates
    matched: str = ""  # question_key of the question or alternative question behind dense_question

    @property
    def rank_score(self) -> float:
        """The score the candidates are ordered by: the second stage's if it ran, else the fused one."""
        return self.score if self.rerank is None else self.rerank

    @property
    def ids(self) -> tuple[str, ...]:
        """This FAQ and the ones with the same question that collapsed into it."""
        return (self.faq_id, *self.duplicates)

    def with_duplicate(self, faq_id: str) -> Candidate:
        return replace(self, duplicates=(*self.duplicates, faq_id))


@dataclass(frozen=True)
class Decision:
    """What to do with a query: answer with ``candidates[0]``, offer ``candidates``, or abstain.

    ``reason`` says which rule decided: ``evidence`` (too little to answer anything: abstain),
    ``confident`` (answer), ``margin`` (the top candidate is not far enough ahead: clarify) or
    ``tie`` (the first stage cannot tell the top candidates apart: clarify among them).
    """

    kind: DecisionKind
    query: str
    confidence: float
    candidates: tuple[Candidate, ...] = ()
    reason: str = ""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


@dataclass(frozen=True)
class BuildStats:
    records: int
    vectors: int
    encoded: int
    seconds: float


@dataclass(frozen=True)
class RetrieverConfig:
    """Fusion weights and decision thresholds (defaults tuned on the Kaohsiung dev set).

    Fused score of an FAQ: ``dense_question + answer_weight * dense_answer +
    lexical_weight * bm25 / best bm25 of the query``.

    With ``rerank`` the first stage's ``rerank_depth`` best candidates are re-ordered by the
    second stage (:mod:`knowledge.rerank`), whose score becomes each candidate's ``rank_score``.

    Decision, from the (up to ten) ranked candidates of a query:

    * *evidence* ``= s1 + gap_weight * (s1 - s10) + lexical_evidence_weight * log(1 + bm25_1)``
      where ``s1``/``s10`` are the highest and lowest fused (first-stage) scores among them
      and ``bm25_1`` the best raw BM25 score. Below ``abstain_below`` the query is out of
      scope: abstain.
    * *ties*: candidates the first stage cannot tell from the top one — their best-matching
      question or alternative question is the same text as the top one's (two entries
      sharing one alternative question) and their fused scores are closer than
      ``twin_margin`` (the margin at which the first stage alone would answer), or their
      fused scores are within ``tie_epsilon`` whatever matched.
      A re-ranker may order such twins by their other words, but nothing the first stage
      saw supports picking one: with a tie the decision is "clarify", offering the top
      candidate and its twins first, and the confidence is at most ``1 / (1 + twins)``.
    * *confidence* that the top candidate is right ``= sigmoid(margin_slope * (r1 - r2) +
      confidence_bias)`` where ``r1``/``r2`` are the first two ranking scores (the second
      stage's if it ran, else the fused ones); at or above ``answer_confidence`` (and no
      tie) answer, else clarify.
    * *clarify list*: the first two candidates, then each next one while it is within
      ``clarify_span`` of the top on the confidence's scale (``margin_slope * (r1 - ri)``),
      at most ``clarify_candidates`` (2–5) in all.

    The defaults re-rank, with decision parameters tuned for the second stage's scores;
    :meth:`first_stage_defaults` turns the second stage off with those tuned for the fused scores.
    """

    answer_weight: float = 0.7
    lexical_weight: float = 0.05
    questions_as_queries: bool = True
    rewrite_dense_query: bool = False
    passage_chars: int = 150
    max_passages: int = 2
    dense_k: int = 200  # nearest rows read from each of the question and answer indexes
    lexical_k: int = 50
    flat_limit: int = 20_000  # beyond it: HNSW (docs/benchmarks.md, bench.scale)
    lexical: LexicalConfig = field(default_factory=lambda: LexicalConfig(answer_weight=0.6))
    # The second stage is on by default: python -m bench.rerank measured it under nested
    # cross-validation against the first stage alone (docs/knowledge-base.md)
    rerank: bool = True  # re-order the first stage's candidates with the second stage (knowledge.rerank)
    rerank_depth: int = 20  # first-stage candidates the second stage re-orders
    # decision parameters for the second stage's scores: python -m bench.rerank
    # (knowledge.calibrate.tune on the held-out-fold re-ranked lists of the Kaohsiung dev set,
    # answer bonus 0.5, clarify_span among 1-6 and none, a button beyond three costing 0.05)
    gap_weight: float = 4.0
    lexical_evidence_weight: float = 0.3
    abstain_below: float = 2.647
    margin_slope: float = 0.6575
    confidence_bias: float = -0.5582
    answer_confidence: float = 0.8
    clarify_candidates: int = 5  # at most this many offered (2-5)
    clarify_span: float = 2.0  # beyond the second, offer a candidate within this of the top (logit units)
    tie_epsilon: float = 1e-4  # fused first-stage scores closer than this are a tie
    # same matched phrasing and fused scores closer than this: a tie. The first stage alone
    # answers from a fused margin of (ln 4 + 0.8096) / 68.23 = 0.032 (confidence 0.8)
    twin_margin: float = 0.032
    # fit margin_slope, confidence_bias and answer_confidence to the base at build time, on its
    # own alternative questions held out one at a time (knowledge.base_calibration). Off: on
    # the default base those held-out questions are harder than citizens' (docs/knowledge-base.md)
    calibrate: bool = False

    @classmethod
    def first_stage_defaults(cls) -> RetrieverConfig:
        """No second stage, with the decision parameters tuned for the fused scores (python -m
        bench.rerank, as for the defaults)."""
        return cls(
            rerank=False,
            gap_weight=4.0,
            lexical_evidence_weight=0.3,
            abstain_below=2.631,
            margin_slope=68.23,
            confidence_bias=-0.8096,
            answer_confidence=0.8,
        )

    @classmethod
    def reranked_defaults(cls) -> RetrieverConfig:
        """The second stage on, with the decision parameters tuned for its scores (the defaults)."""
        return cls()

    def evidence(self, candidates: Sequence[Candidate]) -> float:
        """How strongly the knowledge base covers the query at all (higher: in scope)."""
        if not candidates:
            return float("-inf")
        top, last = max(c.score for c in candidates), min(c.score for c in candidates)
        best_bm25 = max(c.lexical for c in candidates)
        return top + self.gap_weight * (top - last) + self.lexical_evidence_weight * math.log1p(best_bm25)

    @staticmethod
    def margin(candidates: Sequence[Candidate]) -> float:
        """How far the top candidate's ranking score is ahead of the next one's (1.0 if alone)."""
        if len(candidates) < 2:
            return 1.0
        return candidates[0].rank_score - candidates[1].rank_score

    def confidence(self, candidates: Sequence[Candidate]) -> float:
        """Estimated probability that the top candidate is right, from its margin over the next."""
        if not candidates:
            return 0.0
        z = self.margin_slope * self.margin(candidates) + self.confidence_bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def twins(self, candidates: Sequence[Candidate]) -> tuple[Candidate, ...]:
        """The candidates the first stage cannot tell from the top one (best first, see the class doc)."""
        if len(candidates) < 2:
            return ()
        top = candidates[0]
        return tuple(
            c
            for c in candidates[1:]
            if abs(c.score - top.score) <= self.tie_epsilon
            or (top.matched and c.matched == top.matched and abs(c.score - top.score) < self.twin_margin)
        )

    def offered(
        self, candidates: Sequence[Candidate], first: Sequence[Candidate] = ()
    ) -> tuple[Candidate, ...]:
        """The "did you mean" list: ``first`` (after the top one), then the next candidates while close enough."""
        if not candidates:
            return ()
        top = candidates[0]
        out = [top, *(c for c in first if c is not top)][: self.clarify_candidates]
        for candidate in candidates[1:]:
            if len(out) >= self.clarify_candidates:
                break
            if candidate in out:
                continue
            behind = self.margin_slope * (top.rank_score - candidate.rank_score)
            if len(out) >= 2 and behind > self.clarify_span:
                break
            out.append(candidate)
        return tuple(out)

    def decide(self, query: str, candidates: Sequence[Candidate]) -> Decision:
        if not candidates or self.evidence(candidates) < self.abstain_below:
            return Decision("abstain", query, 0.0, (), "evidence")
        confidence = self.confidence(candidates)
        twins = self.twins(candidates)
        if twins:
            confidence = min(confidence, 1.0 / (1 + len(twins)))
            return Decision("clarify", query, confidence, self.offered(candidates, twins), "tie")
        if confidence >= self.answer_confidence:
            return Decision("answer", query, confidence, tuple(candidates[:1]), "confident")
        return Decision("clarify", query, confidence, self.offered(candidates), "margin")
