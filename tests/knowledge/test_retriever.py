from dataclasses import replace

import pytest

from knowledge.faq import FaqRecord
from knowledge.rerank import Reranker, RerankWeights
from knowledge.retriever import Candidate, Retriever, RetrieverConfig
from knowledge.synonyms import parse_synonyms
from tests.knowledge._fixtures import CountingEncoder, faqs

SYNONYMS = parse_synonyms(["紅單\t罰鍰", "罰單\t罰鍰", "要怎麼\t如何"])


@pytest.fixture
def encoder() -> CountingEncoder:
    return CountingEncoder()


@pytest.fixture
def retriever(encoder: CountingEncoder, tmp_path) -> Retriever:  # type: ignore[no-untyped-def]
    built = Retriever(encoder, cache_root=tmp_path, synonyms=SYNONYMS)
    built.build(faqs())
    return built


def test_constructor_is_cheap(encoder: CountingEncoder) -> None:
    Retriever(encoder)
    assert encoder.calls == []


def test_search_ranks_the_right_faq_first(retriever: Retriever) -> None:
    assert retriever.search("兵役體檢要帶哪些證件")[0].faq_id == "T-1"
    ticket = next(c for c in retriever.search("紅單要怎麼繳") if c.faq_id == "T-3")
    assert ticket.lexical > 0.0  # only the synonym list links 紅單 to 罰鍰
    scores = [c.score for c in retriever.search("圖書館借書", k=5)]
    assert scores == sorted(scores, reverse=True)


def test_same_question_faqs_collapse_into_one_candidate(retriever: Retriever) -> None:
    candidates = retriever.search("大型垃圾如何清運", k=5)
    assert set(candidates[0].ids) == {"T-4", "T-6"}
    assert len({c.faq_id for c in candidates}) == len(candidates)
    assert not {"T-4", "T-6"} & {i for c in candidates[1:] for i in c.ids}


def test_rebuild_with_nothing_changed_encodes_nothing(encoder: CountingEncoder, tmp_path) -> None:  # type: ignore[no-untyped-def]
    Retriever(encoder, cache_root=tmp_path).build(faqs())
    fresh = Retriever(encoder, cache_root=tmp_path)
    stats = fresh.build(faqs())
    assert stats.encoded == 0
    assert stats.records == 7


def test_update_encodes_only_the_changed_text_and_remove_forgets(
    retriever: Retriever, encoder: CountingEncoder
) -> None:
    before = len(encoder.calls)
    old = next(r for r in faqs() if r.id == "T-7")
    retriever.update(FaqRecord(id="T-7", question="寵物登記在哪裡辦理？", answer=old.answer))
    assert encoder.calls[before:] == [1]
    assert retriever.search("寵物登記哪裡辦")[0].faq_id == "T-7"
    retriever.remove("T-7")
    assert "T-7" not in {c.faq_id for c in retriever.search("寵物登記哪裡辦", k=10)}
    assert retriever.record("T-7") is None


def test_decide_answers_clarifies_or_abstains(retriever: Retriever) -> None:
    config = retriever.config
    inside = config.evidence(retriever.search("兵役體檢要帶什麼證件"))
    outside = config.evidence(retriever.search("量子力學的波函數"))
    assert inside > outside
    retriever.config = replace(config, abstain_below=(inside + outside) / 2, answer_confidence=0.0)
    clear = retriever.decide("兵役體檢要帶什麼證件")
    assert clear.kind == "answer"
    assert [c.faq_id for c in clear.candidates] == ["T-1"]
    assert retriever.decide("量子力學的波函數").kind == "abstain"
    retriever.config = replace(retriever.config, answer_confidence=1.01)
    unsure = retriever.decide("兵役體檢要帶什麼證件")
    assert unsure.kind == "clarify"
    assert 2 <= len(unsure.candidates) <= config.clarify_candidates
    assert unsure.candidates[0].faq_id == "T-1"


def _candidates(*scores: float, bm25: float = 10.0) -> list[Candidate]:
    return [Candidate(f"F-{i}", s, s, 0.0, bm25) for i, s in enumerate(scores)]


def test_confidence_grows_with_the_margin_and_evidence_with_the_gap() -> None:
    config = RetrieverConfig()
    assert config.confidence(_candidates(1.5, 1.49)) < config.confidence(_candidates(1.5, 1.40))
    assert config.confidence([]) == 0.0
    flat = config.evidence(_candidates(1.5, 1.5, 1.5))
    peaked = config.evidence(_candidates(1.5, 1.45, 1.4))
    assert peaked - flat == pytest.approx(config.gap_weight * 0.1)
    assert config.evidence(_candidates(1.5, 1.4, bm25=30.0)) > config.evidence(
        _candidates(1.5, 1.4, bm25=1.0)
    )
    assert config.decide("q", []).kind == "abstain"


def test_empty_query_and_empty_index_give_no_candidates(
    encoder: CountingEncoder, retriever: Retriever
) -> None:
    assert retriever.search("？！ ") == []
    assert retriever.decide("？！").kind == "abstain"
    assert Retriever(encoder).search("兵役") == []


def test_alternative_questions_are_searched_too(retriever: Retriever) -> None:
    assert retriever.search("寵物晶片植入地點")[0].faq_id != "T-2"
    with_alt = FaqRecord(
        id="T-2",
        question="職業災害補償如何申請？",
        alt_questions=["寵物晶片植入地點？"],
        answer="勞工因職業災害受傷，可向勞保局申請給付。",
    )
    retriever.update(with_alt)
    assert retriever.search("寵物晶片植入地點")[0].faq_id == "T-2"


# --- the second stage (knowledge.rerank) -------------------------------------------------------

SIBLING_ROWS = [
    ("S-1", "護照遺失補發需要多久？", "護照遺失補發約需10個工作天。"),
    ("S-2", "護照遺失補發費用多少？", "護照遺失補發規費每本1,300元。"),
    ("S-3", "垃圾清運時間？", "垃圾車每晚七點收運。"),
]


def _qtype_reranker() -> Reranker:
    """A reranker that reads only question-type agreement (first-stage order breaks ties)."""
    return Reranker(RerankWeights(("fs_score", "qtype_answer"), (0.1, 5.0), (0.0, 0.0), (1.0, 1.0)))


@pytest.fixture
def siblings(encoder: CountingEncoder, tmp_path) -> Retriever:  # type: ignore[no-untyped-def]
    built = Retriever(encoder, RetrieverConfig(rerank=True), cache_root=tmp_path, reranker=_qtype_reranker())
    built.build([FaqRecord(id=i, question=q, answer=a) for i, q, a in SIBLING_ROWS])
    return built


def test_the_default_config_re_ranks_with_the_shipped_weights(retriever: Retriever) -> None:
    assert retriever.config.rerank  # on by default (docs/knowledge-base.md)
    found = retriever.search("兵役體檢要帶哪些證件", k=3)
    assert found[0].faq_id == "T-1"
    assert all(c.rerank is not None for c in found)
    assert retriever.reranker.weights == Reranker.shipped().weights
    retriever.config = RetrieverConfig.first_stage_defaults()
    assert not any(c.rerank is not None for c in retriever.search("兵役體檢要帶哪些證件", k=3))


def test_reranker_off_is_the_first_stage(retriever: Retriever) -> None:
    retriever.config = replace(retriever.config, rerank=False)
    for query in ("兵役體檢要帶哪些證件", "紅單要怎麼繳", "大型垃圾如何清運"):
        found = retriever.search(query, k=5)
        assert found == retriever.first_stage(query, k=5)
        assert all(c.rerank is None for c in found)
        assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)


def test_reranker_on_reorders_the_first_stage_candidates(retriever: Retriever) -> None:
    retriever.config = replace(retriever.config, rerank=True, rerank_depth=6)
    retriever.reranker = _qtype_reranker()
    found = retriever.search("圖書館借書期限多久", k=3)
    deeper = {c.faq_id for c in retriever.first_stage("圖書館借書期限多久", k=6)}
    assert len(found) == 3
    assert {c.faq_id for c in found} <= deeper
    assert all(c.rerank is not None for c in found)
    assert [c.rank_score for c in found] == sorted((c.rank_score for c in found), reverse=True)


def test_a_how_long_query_ranks_the_how_long_sibling_first(siblings: Retriever) -> None:
    assert siblings.search("護照遺失補發要多久", k=2)[0].faq_id == "S-1"
    assert siblings.search("護照遺失補發要多少錢", k=2)[0].faq_id == "S-2"


def test_the_decision_reads_the_second_stage_margin(siblings: Retriever) -> None:
    found = siblings.search("護照遺失補發要多久", k=3)
    assert RetrieverConfig.margin(found) == found[0].rank_score - found[1].rank_score
    decision = siblings.decide("護照遺失補發要多久")
    assert decision.kind in {"answer", "clarify", "abstain"}
    if decision.candidates:
        assert decision.candidates[0].faq_id == "S-1"


def test_profiles_follow_updates(siblings: Retriever) -> None:
    before = siblings.profile("S-3")
    siblings.update(FaqRecord(id="S-3", question="垃圾清運要多久？", answer="約需三天。"))
    after = siblings.profile("S-3")
    assert after != before
    assert "duration" in after.q_types[0]
    siblings.remove("S-3")
    assert "S-3" not in {c.faq_id for c in siblings.search("垃圾清運", k=5)}


# --- ties the first stage cannot break ----------------------------------------------------------

HOUSE_TAX = [
    FaqRecord(
        id="H-1",
        question="房屋稅什麼時候繳？",
        answer="房屋稅每年五月開徵，可以臨櫃、網路或信用卡繳納。",
        alt_questions=["房屋稅期限", "房屋稅怎麼繳"],
    ),
    FaqRecord(
        id="H-2",
        question="房屋稅可以刷卡嗎？",
        answer="房屋稅可以用信用卡或網路繳納，也可以臨櫃繳納。",
        alt_questions=["房屋稅怎麼繳"],
    ),
    FaqRecord(id="H-3", question="垃圾車晚上幾點來？", answer="垃圾車每天晚上七點到。"),
    FaqRecord(id="H-4", question="大型垃圾要怎麼預約清運？", answer="請先電話預約清潔隊。"),
]


def _confident_reranker() -> Reranker:
    """A second stage that tells the twins apart by their answers' words, with a wide margin."""
    names = ("fs_score", "local_a_word", "local_a_bigram", "sentence_best")
    return Reranker(RerankWeights(names, (0.1, 30.0, 30.0, 30.0), (0.0,) * 4, (1.0,) * 4))


@pytest.mark.parametrize("rerank", [False, True])
def test_two_entries_sharing_the_asked_alternative_question_are_offered_not_answered(
    encoder: CountingEncoder,
    tmp_path,
    rerank: bool,  # type: ignore[no-untyped-def]
) -> None:
    config = RetrieverConfig.reranked_defaults() if rerank else RetrieverConfig()
    built = Retriever(encoder, config, cache_root=tmp_path, reranker=_confident_reranker())
    built.build(HOUSE_TAX)
    found = built.search("房屋稅怎麼繳")
    assert {c.faq_id for c in found[:2]} == {"H-1", "H-2"}
    assert found[0].matched == found[1].matched != ""
    # even with every threshold wide open, a tie is not an answer
    built.config = replace(built.config, abstain_below=-100.0, answer_confidence=0.0)
    decision = built.decide("房屋稅怎麼繳")
    assert (decision.kind, decision.reason) == ("clarify", "tie")
    assert {c.faq_id for c in decision.candidates[:2]} == {"H-1", "H-2"}
    assert decision.confidence <= 0.5
    # a question only one of them holds is not a tie
    own = built.decide("房屋稅可以刷卡嗎")
    assert [c.faq_id for c in own.candidates][:1] == ["H-2"]
    assert own.reason != "tie"


def test_fused_scores_within_epsilon_are_a_tie() -> None:
    config = replace(RetrieverConfig(), answer_confidence=0.0, abstain_below=-100.0)
    apart = [
        Candidate("A", 1.50, 0.9, 0.5, 3.0, matched="a"),
        Candidate("B", 1.40, 0.8, 0.5, 3.0, matched="b"),
    ]
    assert config.decide("q", apart).kind == "answer"
    level = [apart[0], replace(apart[1], score=1.50 - config.tie_epsilon / 2, rerank=-5.0)]
    level[0] = replace(level[0], rerank=5.0)
    decision = config.decide("q", level)
    assert (decision.kind, decision.reason) == ("clarify", "tie")


def test_the_clarify_list_holds_two_to_clarify_candidates_by_closeness() -> None:
    config = replace(
        RetrieverConfig(),
        answer_confidence=1.01,
        abstain_below=-100.0,
        clarify_candidates=5,
        clarify_span=3.5,
    )
    slope = config.margin_slope
    close = [Candidate(f"C-{i}", 1.5 - i * 1.0 / slope, 0.9, 0.5, 3.0, matched=str(i)) for i in range(8)]
    assert len(config.decide("q", close).candidates) == 4  # 0, 1, 2 and 3 logits behind
    far = [Candidate(f"C-{i}", 1.5 - i * 10.0 / slope, 0.9, 0.5, 3.0, matched=str(i)) for i in range(8)]
    assert len(config.decide("q", far).candidates) == 2  # always two to choose from
    wide = replace(config, clarify_span=1000.0)
    assert len(wide.decide("q", far).candidates) == 5
