from bench.rerank import _ranking, group_folds
from knowledge.retrieval_types import Candidate


def test_items_with_the_same_key_share_a_fold_and_seeds_are_fixed() -> None:
    keys = [("kaohsiung", f"['K-{i % 7}']") for i in range(40)] + [("default", "['K-1']")] * 3
    folds = group_folds(keys, 5, seed=0)
    by_key: dict[tuple[str, str], set[int]] = {}
    for key, fold in zip(keys, folds, strict=True):
        by_key.setdefault(key, set()).add(fold)
    assert all(len(f) == 1 for f in by_key.values())
    assert set(folds) == set(range(5))
    assert group_folds(keys, 5, seed=0) == folds
    assert ("default", "['K-1']") in by_key  # the same gold id in another set is another group


def test_ranking_counts_a_collapsed_duplicate_as_right() -> None:
    lists = [
        [Candidate("A", 1.0, 0.9, 0.8, 1.0), Candidate("B", 0.9, 0.9, 0.8, 1.0)],
        [Candidate("C", 1.0, 0.9, 0.8, 1.0, ("D",)), Candidate("E", 0.9, 0.9, 0.8, 1.0)],
        [Candidate("F", 1.0, 0.9, 0.8, 1.0)],
    ]
    top1, top3, mrr = _ranking(lists, [{"B"}, {"D"}, {"Z"}])
    assert (top1, top3) == (1 / 3, 2 / 3)
    assert mrr == (0.5 + 1.0) / 3
