"""Score a retriever on labelled queries: ranking, decisions and latency, overall and per group.

Query lines are ``{"query", "gold": id | [ids] | null, "style"?, "kind"?}``; ``gold`` null
marks an out-of-scope message. A candidate is right when it or an FAQ that collapsed into
it (same question) is in ``gold``. Shares are fractions 0–1: the in-scope ones
(``top1`` … ``abstained``) over in-scope queries, ``oos_abstained`` over out-of-scope ones.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NotRequired, Protocol, TypedDict

import numpy as np

from knowledge.retrieval_types import Candidate, Decision

__all__ = [
    "EvalCase",
    "Metrics",
    "Observer",
    "Report",
    "SupportsDecide",
    "evaluate",
    "format_report",
    "gold_ids",
    "read_cases",
]


class EvalCase(TypedDict):
    """One labelled query line."""

    query: str
    gold: str | list[str] | None  # right FAQ id(s); None = out of scope
    style: NotRequired[str]  # how an in-scope query is phrased (colloquial, typo, …)
    kind: NotRequired[str]  # what an out-of-scope message is (chitchat, emergency, …)


class SupportsDecide(Protocol):
    def search(self, query: str, k: int = 10) -> list[Candidate]: ...

    def decide(self, query: str, candidates: list[Candidate] | None = None) -> Decision: ...


@dataclass
class Metrics:
    n_in_scope: int = 0
    n_oos: int = 0
    top1: float = 0.0
    top3: float = 0.0
    mrr10: float = 0.0
    answered_correct: float = 0.0
    clarified_correct: float = 0.0
    answered_wrong: float = 0.0
    abstained: float = 0.0
    oos_abstained: float = 0.0
    latency_ms_p50: float = 0.0
    latency_ms_p95: float = 0.0


@dataclass
class Report(Metrics):
    by_style: dict[str, Metrics] = field(default_factory=dict)
    by_kind: dict[str, Metrics] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Outcome:
    group: str
    in_scope: bool
    rank: int | None  # 1-based rank of the first right candidate within the top 10
    decision: str  # answer / clarify / abstain
    decided_right: bool  # the answer, or one of the offered candidates, is right
    latency_ms: float


def read_cases(path: Path | str) -> list[EvalCase]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# Called after each query, outside its timing: the case, its ranked candidates, the decision, milliseconds.
Observer = Callable[[EvalCase, list[Candidate], Decision, float], None]


def gold_ids(case: EvalCase) -> set[str]:
    """The right FAQ ids of a case (empty: out of scope)."""
    gold = case.get("gold")
    if gold is None:
        return set()
    return {gold} if isinstance(gold, str) else set(gold)


def _outcomes(
    retriever: SupportsDecide, cases: Iterable[EvalCase], observe: Observer | None = None
) -> Iterator[_Outcome]:
    for case in cases:
        gold = gold_ids(case)
        started = time.perf_counter()
        candidates = retriever.search(case["query"], k=10)
        decision = retriever.decide(case["query"], candidates)
        latency = (time.perf_counter() - started) * 1000.0
        if observe is not None:
            observe(case, candidates, decision, latency)
        rank = next((i for i, c in enumerate(candidates, 1) if gold & set(c.ids)), None)
        right = any(gold & set(c.ids) for c in decision.candidates)
        group = case.get("style", "unlabelled") if gold else case.get("kind", "unlabelled")
        yield _Outcome(group, bool(gold), rank, decision.kind, right, latency)


def _metrics(outcomes: Sequence[_Outcome]) -> Metrics:
    ins = [o for o in outcomes if o.in_scope]
    oos = [o for o in outcomes if not o.in_scope]
    m = Metrics(n_in_scope=len(ins), n_oos=len(oos))
    if ins:
        n = len(ins)
        m.top1 = sum(o.rank == 1 for o in ins) / n
        m.top3 = sum(o.rank is not None and o.rank <= 3 for o in ins) / n
        m.mrr10 = sum(1.0 / o.rank for o in ins if o.rank is not None) / n
        m.answered_correct = sum(o.decision == "answer" and o.decided_right for o in ins) / n
        m.clarified_correct = sum(o.decision == "clarify" and o.decided_right for o in ins) / n
        m.answered_wrong = sum(o.decision == "answer" and not o.decided_right for o in ins) / n
        m.abstained = sum(o.decision == "abstain" for o in ins) / n
    if oos:
        m.oos_abstained = sum(o.decision == "abstain" for o in oos) / len(oos)
    if outcomes:
        latencies = np.array([o.latency_ms for o in outcomes])
        m.latency_ms_p50 = float(np.percentile(latencies, 50))
        m.latency_ms_p95 = float(np.percentile(latencies, 95))
    return m


def evaluate(retriever: SupportsDecide, cases: Iterable[EvalCase], observe: Observer | None = None) -> Report:
    """Run every case through ``retriever`` and score it overall, per style and per kind.

    ``observe``, if given, sees every query's candidates and decision (e.g. to write details).
    """
    outcomes = list(_outcomes(retriever, cases, observe))
    report = Report(**asdict(_metrics(outcomes)))
    for in_scope, target in ((True, report.by_style), (False, report.by_kind)):
        groups = sorted({o.group for o in outcomes if o.in_scope == in_scope})
        for group in groups:
            target[group] = _metrics([o for o in outcomes if o.in_scope == in_scope and o.group == group])
    return report


_COLUMNS = ("n", "top1", "top3", "mrr10", "ans_ok", "clar_ok", "ans_bad", "abst")


def _row(name: str, m: Metrics) -> str:
    values = (m.top1, m.top3, m.mrr10, m.answered_correct, m.clarified_correct, m.answered_wrong, m.abstained)
    return f"{name:<14}{m.n_in_scope:>5}" + "".join(f"{v:>8.3f}" for v in values)


def format_report(report: Report) -> str:
    """A plain-text table of a report."""
    lines = [f"{'in scope':<14}" + "".join(f"{c:>8}" if i else f"{c:>5}" for i, c in enumerate(_COLUMNS))]
    lines.append(_row("all", report))
    lines.extend(_row(style, m) for style, m in report.by_style.items())
    lines.append("")
    lines.append(f"{'out of scope':<14}{'n':>5}{'abstained':>11}")
    lines.append(f"{'all':<14}{report.n_oos:>5}{report.oos_abstained:>11.3f}")
    lines.extend(f"{kind:<14}{m.n_oos:>5}{m.oos_abstained:>11.3f}" for kind, m in report.by_kind.items())
    lines.append("")
    lines.append(f"latency ms: p50 {report.latency_ms_p50:.1f}  p95 {report.latency_ms_p95:.1f}")
    return "\n".join(lines)
