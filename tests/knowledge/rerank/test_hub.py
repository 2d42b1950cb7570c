import numpy as np

from knowledge.rerank import hub_scores


def test_a_question_near_many_others_is_a_hub() -> None:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=16)
    near = [centre + 0.3 * rng.normal(size=16) for _ in range(5)]
    far = [rng.normal(size=16) * 3 for _ in range(5)]
    rows = np.array([centre, *near, *far], dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    ids = [f"F-{i}" for i in range(len(rows))]
    hubs = hub_scores(rows, ids, k=3)
    assert set(hubs) == set(ids)
    assert hubs["F-0"] == max(hubs.values())


def test_rows_of_one_faq_are_not_its_own_neighbours() -> None:
    rows = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    hubs = hub_scores(rows, ["A", "A", "B"], k=1)
    assert hubs["A"] == 0.0  # its only other-FAQ neighbour is orthogonal
    assert hubs["B"] == 0.0
    assert hub_scores(rows[:0], []) == {}
