import pytest

from knowledge.evaluate import EvalCase, evaluate, format_report, read_cases
from knowledge.retrieval_types import Candidate, Decision


class ScriptedRetriever:
    """Returns a fixed ranking and decision per query."""

    def __init__(self, script: dict[str, tuple[list[str], str]]) -> None:
        self.script = script

    def search(self, query: str, k: int = 10) -> list[Candidate]:
        ranking, _ = self.script[query]
        return [Candidate(faq_id, 1.0 - i / 10, 0.0, 0.0, 0.0) for i, faq_id in enumerate(ranking)][:k]

    def decide(self, query: str, candidates: list[Candidate] | None = None) -> Decision:
        candidates = candidates if candidates is not None else self.search(query)
        kind = self.script[query][1]
        shown = {"answer": candidates[:1], "clarify": candidates[:3], "abstain": []}[kind]
        return Decision(kind, query, 0.5, tuple(shown))  # type: ignore[arg-type]


CASES: list[EvalCase] = [
    {"query": "q1", "gold": "A", "style": "short"},  # answered right
    {"query": "q2", "gold": ["B", "B2"], "style": "short"},  # right at rank 2, clarified
    {"query": "q3", "gold": ["C"], "style": "typo"},  # answered wrong, right at rank 3
    {"query": "q4", "gold": "D", "style": "typo"},  # not found, abstained
    {"query": "hi", "gold": None, "kind": "chitchat"},
    {"query": "fire", "gold": None, "kind": "emergency"},
]
SCRIPT = {
    "q1": (["A", "X"], "answer"),
    "q2": (["X", "B2", "Y"], "clarify"),
    "q3": (["X", "Y", "C"], "answer"),
    "q4": (["X", "Y"], "abstain"),
    "hi": (["X"], "abstain"),
    "fire": (["X"], "answer"),
}


def test_overall_shares() -> None:
    report = evaluate(ScriptedRetriever(SCRIPT), CASES)
    assert (report.n_in_scope, report.n_oos) == (4, 2)
    assert report.top1 == 0.25
    assert report.top3 == 0.75
    assert report.mrr10 == pytest.approx((1 + 1 / 2 + 1 / 3) / 4)
    assert report.answered_correct == 0.25
    assert report.clarified_correct == 0.25
    assert report.answered_wrong == 0.25
    assert report.abstained == 0.25
    assert report.oos_abstained == 0.5
    assert report.latency_ms_p95 >= report.latency_ms_p50 >= 0.0


def test_groups_by_style_and_kind() -> None:
    report = evaluate(ScriptedRetriever(SCRIPT), CASES)
    assert set(report.by_style) == {"short", "typo"}
    assert report.by_style["short"].top3 == 1.0
    assert report.by_style["typo"].answered_wrong == 0.5
    assert report.by_kind["chitchat"].oos_abstained == 1.0
    assert report.by_kind["emergency"].oos_abstained == 0.0
    assert report.to_dict()["by_kind"]["emergency"]["n_oos"] == 1


def test_collapsed_duplicates_count_as_right() -> None:
    class WithDuplicates(ScriptedRetriever):
        def search(self, query: str, k: int = 10) -> list[Candidate]:
            return [Candidate("B", 1.0, 0.0, 0.0, 0.0, duplicates=("A",))]

    report = evaluate(WithDuplicates(SCRIPT), CASES[:1])
    assert report.top1 == 1.0
    assert report.answered_correct == 1.0


def test_text_report_and_reading_cases(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"query": "q1", "gold": "A", "style": "short"}\n\n{"query": "hi", "gold": null}\n', "utf-8"
    )
    cases = read_cases(path)
    assert [c["query"] for c in cases] == ["q1", "hi"]
    text = format_report(evaluate(ScriptedRetriever(SCRIPT), cases))
    assert "short" in text
    assert "unlabelled" in text
    assert "latency ms" in text
