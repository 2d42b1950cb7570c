"""Set the decision thresholds of :class:`RetrieverConfig` from labelled queries, and check them honestly.

:func:`collect` runs every query once and keeps its ranked candidates; :func:`tune` then
searches the few decision parameters on those stored rankings (no re-encoding), and
:func:`cross_validate` tunes on part of the queries and scores the rest, so the figures
reported for a tuned config are not measured on the queries that chose it.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from knowledge.evaluate import EvalCase, Report, SupportsDecide, evaluate
from knowledge.retrieval_types import Candidate, Decision, RetrieverConfig

__all__ = [
    "OOS_KINDS",
    "Evidence",
    "ReplayRetriever",
    "collect",
    "cross_validate",
    "extra_buttons",
    "fit_confidence",
    "right_at_top",
    "tune",
]

OOS_KINDS = ("chitchat", "other_domain", "gibberish", "too_vague")  # what retrieval itself must refuse
GAP_WEIGHTS = (0.0, 1.0, 2.0, 4.0)
LEXICAL_EVIDENCE_WEIGHTS = (0.0, 0.1, 0.2, 0.3)
ANSWER_CONFIDENCES = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


@dataclass(frozen=True)
class Evidence:
    case: EvalCase
    candidates: tuple[Candidate, ...]


class ReplayRetriever:
    """Answers from stored rankings with a given config: re-deciding costs microseconds."""

    def __init__(self, evidence: Sequence[Evidence], config: RetrieverConfig) -> None:
        self.config = config
        self._ranked = {e.case["query"]: list(e.candidates) for e in evidence}

    def search(self, query: str, k: int = 10) -> list[Candidate]:
        return self._ranked[query][:k]

    def decide(self, query: str, candidates: list[Candidate] | None = None) -> Decision:
        return self.config.decide(query, candidates if candidates is not None else self.search(query))


def collect(retriever: SupportsDecide, cases: Iterable[EvalCase], depth: int = 10) -> list[Evidence]:
    return [Evidence(case, tuple(retriever.search(case["query"], k=depth))) for case in cases]


def _fit_logistic(xs: Sequence[float], ys: Sequence[bool], steps: int = 50) -> tuple[float, float]:
    """Slope and bias of ``P(y) = sigmoid(slope * x + bias)`` by Newton's method (lightly regularised)."""
    slope, bias = 0.0, 0.0
    for _ in range(steps):
        g0 = g1 = h00 = h01 = h11 = 0.0
        for x, y in zip(xs, ys, strict=True):
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, slope * x + bias))))
            w = p * (1.0 - p)
            g0, g1 = g0 + (p - y) * x, g1 + (p - y)
            h00, h01, h11 = h00 + w * x * x, h01 + w * x, h11 + w
        h00 += 1e-6
        det = h00 * h11 - h01 * h01
        if det <= 0:
            break
        slope -= (h11 * g0 - h01 * g1) / det
        bias -= (h00 * g1 - h01 * g0) / det
    return slope, bias


def right_at_top(e: Evidence) -> bool:
    """The top candidate of ``e`` is right."""
    return _right(e)


def fit_confidence(evidence: Sequence[Evidence], base: RetrieverConfig) -> tuple[float, float]:
    """``margin_slope`` and ``confidence_bias`` fitted to whether the top candidate was right."""
    ranked = [e for e in evidence if e.case.get("gold") and len(e.candidates) > 1]
    return _fit_logistic([base.margin(e.candidates) for e in ranked], [_right(e) for e in ranked])


def _right(e: Evidence) -> bool:
    gold = e.case.get("gold")
    gold_ids = {gold} if isinstance(gold, str) else set(gold or [])
    return bool(e.candidates) and bool(gold_ids & set(e.candidates[0].ids))


def extra_buttons(evidence: Sequence[Evidence], config: RetrieverConfig, shown: int = 3) -> float:
    """Mean number of "did you mean" buttons beyond ``shown`` per in-scope query."""
    inside = [e for e in evidence if e.case.get("gold")]
    if not inside:
        return 0.0
    decisions = [config.decide(e.case["query"], e.candidates) for e in inside]
    return sum(max(0, len(d.candidates) - shown) for d in decisions if d.kind == "clarify") / len(inside)


def tune(
    evidence: Sequence[Evidence],
    base: RetrieverConfig | None = None,
    *,
    max_answered_wrong: float = 0.04,
    min_oos_abstained: float = 0.9,
    answer_bonus: float = 0.1,
    spans: Sequence[float] = (),
    button_cost: float = 0.05,
) -> RetrieverConfig:
    """The decision parameters that answer or clarify the most in-scope queries correctly
    while answering at most ``max_answered_wrong`` wrongly and abstaining on at least
    ``min_oos_abstained`` of the out-of-scope queries of :data:`OOS_KINDS`.

    A right direct answer counts ``1 + answer_bonus`` against 1 for a right "did you mean".
    With ``spans`` the clarify list's ``clarify_span`` is chosen among them too (up to
    ``base.clarify_candidates`` buttons), each button beyond three costing ``button_cost``
    per query.
    """
    base = base or RetrieverConfig()
    ranked = [e for e in evidence if e.case.get("gold") and len(e.candidates) > 1]
    slope, bias = _fit_logistic([base.margin(e.candidates) for e in ranked], [_right(e) for e in ranked])
    base = replace(base, margin_slope=slope, confidence_bias=bias)
    oos = [e for e in evidence if e.case.get("gold") is None and e.case.get("kind") in OOS_KINDS]
    best: tuple[float, RetrieverConfig] | None = None
    for gap_weight, lexical_weight in itertools.product(GAP_WEIGHTS, LEXICAL_EVIDENCE_WEIGHTS):
        config = replace(base, gap_weight=gap_weight, lexical_evidence_weight=lexical_weight)
        scores = sorted(config.evidence(e.candidates) for e in oos)
        keep = math.ceil(min_oos_abstained * len(scores))
        threshold = scores[keep - 1] + 1e-6 if scores and keep else base.abstain_below
        for answer_confidence in ANSWER_CONFIDENCES:
            candidate = replace(config, abstain_below=threshold, answer_confidence=answer_confidence)
            report = evaluate(ReplayRetriever(evidence, candidate), [e.case for e in evidence])
            if report.answered_wrong > max_answered_wrong:
                continue
            objective = (
                report.answered_correct + report.clarified_correct + answer_bonus * report.answered_correct
            )
            if best is None or objective > best[0]:
                best = (objective, candidate)
    chosen = best[1] if best is not None else base
    if not spans:
        return chosen
    scored = []
    for span in spans:
        candidate = replace(chosen, clarify_span=span)
        report = evaluate(ReplayRetriever(evidence, candidate), [e.case for e in evidence])
        cost = button_cost * extra_buttons(evidence, candidate)
        scored.append((report.clarified_correct - cost, -span, candidate))
    return max(scored, key=lambda s: (s[0], s[1]))[2]


def cross_validate(
    evidence: Sequence[Evidence], base: RetrieverConfig | None = None, *, folds: int = 2, seed: int = 0
) -> list[tuple[RetrieverConfig, Report]]:
    """Tune on all folds but one and score the held-out fold, for each fold in turn."""
    order = list(range(len(evidence)))
    random.Random(seed).shuffle(order)
    parts = [[evidence[i] for i in order[f::folds]] for f in range(folds)]
    results: list[tuple[RetrieverConfig, Report]] = []
    for f, held_out in enumerate(parts):
        train = [e for g, part in enumerate(parts) if g != f for e in part]
        config = tune(train, base)
        results.append((config, evaluate(ReplayRetriever(held_out, config), [e.case for e in held_out])))
    return results
