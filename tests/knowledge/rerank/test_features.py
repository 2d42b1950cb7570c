"""Re-ranking features on hand-written sibling FAQs (no encoder: first-stage scores are given)."""

import numpy as np
import pytest

from knowledge.normalize import for_retrieval
from knowledge.rerank import FEATURES, FaqProfile, agency_keys, features, profile_faq, query_terms
from knowledge.retrieval_types import Candidate

SIBLINGS = {
    "P-1": ("護照遺失補發需要多久？", "護照補發約需10個工作天。", "外交部領事事務局"),
    "P-2": ("護照遺失補發的費用是多少？", "護照規費每本1,300元。", "外交部領事事務局"),
    "P-3": ("身心障礙者護照補發如何申請？", "身心障礙者可委託他人代為申請補發護照。", "高雄市政府社會局"),
    "P-4": ("補發護照要帶什麼證件？", "請攜帶身分證正本及照片兩張。", "高雄市政府民政局"),
}


def _profiles() -> dict[str, FaqProfile]:
    return {i: profile_faq([q], a, agency, for_retrieval) for i, (q, a, agency) in SIBLINGS.items()}


def _rows(query: str, scores: dict[str, float] | None = None) -> dict[str, dict[str, float]]:
    """Feature values by FAQ id and feature name, all first-stage scores equal unless given."""
    ids = list(SIBLINGS)
    scores = scores or {}
    candidates = [Candidate(i, scores.get(i, 1.0), 0.9, 0.8, 10.0) for i in ids]
    profiles = _profiles()
    matrix = features(query_terms(for_retrieval(query)), candidates, [profiles[i] for i in ids])
    return {i: dict(zip(FEATURES, row, strict=True)) for i, row in zip(ids, matrix, strict=True)}


def test_question_type_of_the_query_matches_the_sibling_that_answers_it() -> None:
    rows = _rows("護照補發要等多久")
    assert rows["P-1"]["qtype_match"] == 1.0
    assert rows["P-2"]["qtype_match"] == 0.0
    assert rows["P-2"]["qtype_conflict"] == 1.0  # it asks for something else (cost)
    assert rows["P-1"]["qtype_answer"] == 1.0  # its answer gives a duration
    assert rows["P-2"]["qtype_answer"] == 0.0
    money = _rows("護照補發費用多少錢")
    assert money["P-2"]["qtype_answer"] == 1.0
    assert money["P-1"]["qtype_answer"] == 0.0


def test_a_word_every_candidate_shares_weighs_nothing_a_distinctive_one_counts() -> None:
    rows = _rows("護照")
    assert len({rows[i]["local_q_word"] for i in SIBLINGS}) == 1  # 護照 is in every question
    rows = _rows("身心障礙者的護照")
    assert rows["P-3"]["local_q_word"] == 1.0
    assert rows["P-3"]["local_miss"] == 0.0
    # 護照 is matched but weighs almost nothing: the distinctive 身心障礙者 is missed
    assert rows["P-1"]["local_q_word"] < 0.1
    assert rows["P-1"]["local_miss"] > 0.8


def test_a_qualifier_the_query_does_not_mention_counts_against_its_candidate() -> None:
    general = _rows("護照補發如何申請")["P-3"]
    specific = _rows("身心障礙者護照補發如何申請")["P-3"]
    assert general["qual_word"] > specific["qual_word"] == 0.0
    assert general["qual_bigram"] > specific["qual_bigram"] == 0.0
    assert general["qual_rare"] > specific["qual_rare"] == 0.0


def test_answer_sentences_and_agencies() -> None:
    rows = _rows("補發護照要帶身分證嗎")
    assert rows["P-4"]["sentence_best"] > rows["P-2"]["sentence_best"]
    rows = _rows("社會局 護照補發")
    assert rows["P-3"]["agency_match"] == 1.0
    assert rows["P-1"]["agency_match"] == 0.0
    assert rows["P-1"]["agency_other"] == 1.0
    assert agency_keys("高雄市政府社會局") == ("社會局", "社會")
    assert agency_keys("高雄市鳳山區公所") == ("鳳山區公所", "鳳山")
    assert agency_keys("臺北市政府都市發展局") == ("都市發展局", "都市發展")
    assert agency_keys("高雄市市立空中大學") == ("空中大學",)


def test_first_stage_features_are_relative_to_the_best_candidate() -> None:
    rows = _rows("護照", {"P-1": 1.5, "P-2": 1.49})
    assert rows["P-1"]["fs_score"] == 0.0
    assert rows["P-2"]["fs_score"] == pytest.approx(-1.0)
    assert rows["P-1"]["fs_rank"] == 1.0
    assert rows["P-4"]["fs_rank"] == 0.25


def test_field_bm25_is_scaled_by_the_best_candidate_and_absent_means_zero() -> None:
    ids = list(SIBLINGS)
    profiles = _profiles()
    candidates = [Candidate(i, 1.0, 0.9, 0.8, 10.0) for i in ids]
    bm25 = {"question": np.array([4.0, 2.0, 0.0, 1.0], np.float32), "answer": np.zeros(4, np.float32)}
    matrix = features(query_terms("護照"), candidates, [profiles[i] for i in ids], bm25)
    column = FEATURES.index("bm25_question")
    assert list(matrix[:, column]) == [1.0, 0.5, 0.0, 0.25]
    assert not matrix[:, FEATURES.index("bm25_answer")].any()
    assert features(query_terms("護照"), [], []).shape == (0, len(FEATURES))


def test_question_types_are_read_from_the_best_matching_phrasing() -> None:
    """An FAQ with alternative questions is judged by the phrasing that agrees with the query."""
    curated = profile_faq(
        ["護照補發需要多久？", "護照補發的費用？", "護照在哪裡補發？"], "約十天。", "", for_retrieval
    )
    plain = profile_faq(["護照補發的費用？"], "每本1,300元。", "", for_retrieval)
    candidates = [Candidate("C-1", 1.0, 0.9, 0.8, 10.0), Candidate("C-2", 1.0, 0.9, 0.8, 10.0)]
    rows = features(query_terms(for_retrieval("護照補發要多久")), candidates, [curated, plain])
    match, extra = FEATURES.index("qtype_match"), FEATURES.index("qtype_extra")
    conflict = FEATURES.index("qtype_conflict")
    assert list(rows[:, match]) == [1.0, 0.0]
    assert list(rows[:, extra]) == [0.0, 1.0]
    assert list(rows[:, conflict]) == [0.0, 1.0]
    assert rows[0, FEATURES.index("question_length")] == pytest.approx(np.log1p(len("護照補發需要多久")))
