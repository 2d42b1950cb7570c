import numpy as np
import pytest

from knowledge.normalize import for_retrieval
from knowledge.rerank import (
    FEATURES,
    WEIGHTS_FILE,
    Reranker,
    RerankWeights,
    features,
    fit,
    profile_faq,
    query_terms,
)
from knowledge.retrieval_types import Candidate


def _lists(seed: int, n: int = 60) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Lists of 8 candidates where the right one has the highest ``local_q_word`` (others are noise)."""
    rng = np.random.default_rng(seed)
    column = FEATURES.index("local_q_word")
    lists, right = [], []
    for _ in range(n):
        rows = rng.normal(size=(8, len(FEATURES)))
        best = int(rng.integers(8))
        rows[best, column] = rows[:, column].max() + 0.5
        lists.append(rows)
        right.append(np.arange(8) == best)
    return lists, right


def test_fit_learns_the_feature_that_marks_the_right_candidate() -> None:
    lists, right = _lists(0)
    weights = fit(lists, right, ("fs_score", "local_q_word", "hub"))
    coef = dict(zip(weights.features, weights.coef, strict=True))
    assert coef["local_q_word"] > 1.0
    assert abs(coef["fs_score"]) < 0.5
    assert abs(coef["hub"]) < 0.5
    model = Reranker(weights)
    held_lists, held_right = _lists(1)
    firsts = [bool(r[int(np.argmax(model.scores(x)))]) for x, r in zip(held_lists, held_right, strict=True)]
    assert sum(firsts) / len(firsts) > 0.9


def test_lists_without_a_right_candidate_are_skipped_and_none_at_all_is_an_error() -> None:
    lists, right = _lists(0, n=10)
    nothing = [np.zeros(8, dtype=bool)] * 10
    assert fit([*lists, *lists], [*right, *nothing]).features == FEATURES
    with pytest.raises(ValueError, match="no list"):
        fit(lists, nothing)


def test_scores_fold_the_standardisation_into_the_weights() -> None:
    weights = RerankWeights(("fs_score", "qtype_match"), (2.0, -1.0), (1.0, 0.5), (2.0, 0.5))
    rows = np.zeros((2, len(FEATURES)))
    rows[0, FEATURES.index("fs_score")] = 3.0
    rows[1, FEATURES.index("qtype_match")] = 1.0
    expected = [
        2.0 * (3.0 - 1.0) / 2.0 - 1.0 * (0.0 - 0.5) / 0.5,
        2.0 * (0.0 - 1.0) / 2.0 - 1.0 * (1.0 - 0.5) / 0.5,
    ]
    assert Reranker(weights).scores(rows) == pytest.approx(expected)


def test_weights_round_trip_and_unknown_features_are_refused() -> None:
    weights = RerankWeights(("fs_score",), (1.0,), (0.0,), (1.0,), "by hand")
    assert RerankWeights.from_json(weights.to_json()) == weights
    with pytest.raises(ValueError, match="unknown"):
        Reranker(RerankWeights(("no_such_feature",), (1.0,), (0.0,), (1.0,)))


def test_the_shipped_weights_load_and_say_how_they_were_fitted() -> None:
    model = Reranker.shipped()
    weights = model.weights
    assert WEIGHTS_FILE.is_file()
    assert set(weights.features) <= set(FEATURES)
    assert len(weights.features) == len(weights.coef) == len(weights.mean) == len(weights.scale)
    assert "bench.rerank" in weights.fitted
    assert all(np.isfinite(weights.coef))


SIBLINGS = [
    ("R-1", "行車執照遺失補發需要多久？", "監理站當場補發，約需30分鐘。"),
    ("R-2", "行車執照遺失補發的費用是多少？", "補發行車執照規費為200元。"),
]


@pytest.mark.parametrize(
    ("query", "right"), [("行照掉了補發要等多久", "R-1"), ("行照掉了補發要多少錢", "R-2")]
)
def test_the_shipped_weights_prefer_the_sibling_that_answers_what_is_asked(query: str, right: str) -> None:
    """Two siblings the first stage cannot tell apart (equal scores, the wrong one ranked first)."""
    ordered = sorted(SIBLINGS, key=lambda row: row[0] == right)  # the right one second
    candidates = [Candidate(i, 1.5, 0.9, 0.85, 20.0) for i, _, _ in ordered]
    profiles = [profile_faq([q], a, "", for_retrieval) for _, q, a in ordered]
    rows = features(query_terms(for_retrieval(query)), candidates, profiles)
    scores = Reranker.shipped().scores(rows)
    assert candidates[int(np.argmax(scores))].faq_id == right
