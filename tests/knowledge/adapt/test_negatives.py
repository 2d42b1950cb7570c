import numpy as np

from knowledge.adapt import duplicate_groups, hard_negatives
from knowledge.faq import FaqRecord


def _records(*rows: tuple[str, str]) -> list[FaqRecord]:
    return [FaqRecord(id=f"N-{n}", question=q, answer="答案。", agency=a) for n, (q, a) in enumerate(rows)]


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    unit: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return unit


def test_the_same_question_after_normalisation_is_one_group() -> None:
    records = _records(("大型垃圾如何清運？", "甲"), ("大型垃圾  如何清運", "甲"), ("借書期限多久？", "甲"))
    vectors = _unit([1, 0], [0, 1], [1, 1])
    groups = duplicate_groups(records, vectors, duplicate_cosine=0.99)
    assert groups[0] == groups[1] != groups[2]


def test_vectors_closer_than_the_threshold_are_one_group_and_the_link_is_transitive() -> None:
    records = _records(("一", "甲"), ("二", "甲"), ("三", "甲"), ("四", "甲"))
    vectors = _unit([1, 0, 0], [1, 0.1, 0], [1, 0.2, 0], [0, 0, 1])
    groups = duplicate_groups(records, vectors, duplicate_cosine=0.99)
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert len(set(duplicate_groups(records, vectors, duplicate_cosine=0.9999))) == 4


def test_a_hard_negative_is_never_of_the_entry_s_own_group() -> None:
    records = _records(("一", "甲"), ("二", "甲"), ("三", "甲"), ("四", "甲"))
    vectors = _unit([1, 0, 0], [1, 0.01, 0], [1, 0.5, 0], [0, 1, 1])
    groups = [0, 0, 1, 2]
    for n, negative in enumerate(hard_negatives(records, vectors, groups, seed=1, pool=1)):
        assert negative is not None
        assert groups[negative] != groups[n]
    assert hard_negatives(records, vectors, groups, seed=1, pool=1)[0] == 2  # the nearest other group


def test_a_sibling_of_the_same_agency_is_preferred_to_a_closer_stranger() -> None:
    records = _records(("一", "甲"), ("二", "乙"), ("三", "甲"))
    vectors = _unit([1, 0], [1, 0.05], [1, 1])
    assert hard_negatives(records, vectors, [0, 1, 2], seed=1, pool=1)[0] == 2


def test_an_entry_with_only_its_duplicates_has_no_negative() -> None:
    records = _records(("一", "甲"), ("一", "甲"))
    assert hard_negatives(records, _unit([1, 0], [1, 0]), [0, 0], seed=1) == [None, None]
