import io
import json

from knowledge.eval_details import TOP, DetailWriter
from knowledge.evaluate import EvalCase, evaluate
from knowledge.rerank import Reranker
from knowledge.retriever import Retriever, RetrieverConfig
from tests.knowledge._fixtures import CountingEncoder, faqs

CASES: list[EvalCase] = [
    {"query": "兵役體檢要帶哪些證件", "gold": "T-1", "style": "short"},
    {"query": "大型垃圾如何清運", "gold": ["T-6"], "style": "short"},
    {"query": "量子力學的波函數", "gold": None, "kind": "other_domain"},
]


def _details(config: RetrieverConfig, tmp_path) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    retriever = Retriever(CountingEncoder(), config, cache_root=tmp_path)
    retriever.build(faqs())
    out = io.StringIO()
    writer = DetailWriter(retriever, out)
    report = evaluate(retriever, CASES, writer)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert writer.lines == len(lines) == len(CASES)
    assert report.n_in_scope == 2
    return lines


def test_one_line_per_query_with_the_decision_and_the_right_faqs_rank(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, twins, outside = _details(RetrieverConfig.first_stage_defaults(), tmp_path)
    assert first["query"] == CASES[0]["query"]
    assert (first["gold"], first["group"], first["rank"], first["first_stage_rank"]) == (
        ["T-1"],
        "short",
        1,
        1,
    )
    assert first["decision"] in {"answer", "clarify", "abstain"}
    assert first["reason"] in {"confident", "margin", "tie", "evidence"}
    assert 0.0 <= first["confidence"] <= 1.0
    assert first["evidence"] is not None
    assert first["decided_right"] == ("T-1" in first["offered"])
    top = first["top"]
    assert 1 < len(top) <= TOP
    assert [c["rank"] for c in top] == list(range(1, len(top) + 1))
    assert top[0]["faq_id"] == "T-1"
    assert top[0]["right"]
    assert not any(c["right"] for c in top[1:])
    assert top[0]["question"] == "兵役體檢要帶什麼證件？"
    assert top[0]["matched"] == "兵役體檢要帶什麼證件"
    assert top[0]["score"] >= top[1]["score"]
    assert top[0]["rerank"] is None
    assert top[0]["features"] == {}  # the second stage is off
    # a gold FAQ that collapsed into another with the same question still counts as right
    assert twins["rank"] == 1
    assert {twins["top"][0]["faq_id"], *twins["top"][0]["duplicates"]} == {"T-4", "T-6"}
    assert outside["gold"] == []
    assert outside["group"] == "other_domain"
    assert outside["rank"] is None


def test_with_the_second_stage_each_candidate_carries_its_features(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, *_ = _details(RetrieverConfig.reranked_defaults(), tmp_path)
    names = set(Reranker.shipped().weights.features)
    assert all(set(c["features"]) == names for c in first["top"])
    assert all(c["rerank"] is not None for c in first["top"])
    ranked = [c["rerank"] for c in first["top"]]
    assert ranked == sorted(ranked, reverse=True)
