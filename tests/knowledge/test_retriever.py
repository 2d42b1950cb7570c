from dataclasses import replace

import pytest

from knowledge.faq import FaqRecord
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
    assert len(unsure.candidates) == config.clarify_candidates
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
