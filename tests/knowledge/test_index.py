import numpy as np
import pytest

from knowledge.index import DenseIndex
from knowledge.vector_cache import VectorCache
from tests.knowledge._fixtures import CountingEncoder


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _index(flat_limit: int = 100) -> DenseIndex:
    index = DenseIndex(3, flat_limit=flat_limit)
    index.set("a", ["question", "answer"], np.stack([_unit(1, 0, 0), _unit(0, 1, 0)]))
    index.set("b", ["question"], np.stack([_unit(0, 0, 1)]))
    return index


@pytest.mark.parametrize("flat_limit", [100, 0])
def test_search_returns_nearest_rows_with_owner_and_kind(flat_limit: int) -> None:
    index = _index(flat_limit)
    assert index.kind == ("flat" if flat_limit else "hnsw")
    hits = index.search(_unit(0.1, 1, 0), k=2)
    assert [(h.faq_id, h.kind) for h in hits] == [("a", "answer"), ("a", "question")]
    assert hits[0].score == pytest.approx(float(_unit(0.1, 1, 0) @ _unit(0, 1, 0)))


@pytest.mark.parametrize("flat_limit", [100, 0])
def test_replace_and_remove_one_faq(flat_limit: int) -> None:
    index = _index(flat_limit)
    index.search(_unit(1, 0, 0), k=1)  # compile before changing
    index.set("a", ["question"], np.stack([_unit(0, 0.9, 0.1)]))
    assert len(index) == 2
    assert [h.faq_id for h in index.search(_unit(1, 0, 0), k=3)] in (["a", "b"], ["b", "a"])
    assert index.search(_unit(0, 1, 0), k=1)[0].kind == "question"
    index.remove("a")
    assert [h.faq_id for h in index.search(_unit(0, 1, 0), k=3)] == ["b"]
    assert len(index) == 1


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 2 vectors"):
        DenseIndex(3).set("a", ["question", "answer"], np.zeros((1, 3), np.float32))


def test_cache_encodes_each_text_once_per_side_and_persists(tmp_path) -> None:  # type: ignore[no-untyped-def]
    encoder = CountingEncoder(dim=32)
    cache = VectorCache(encoder, tmp_path)
    first = cache.encode(["大型垃圾", "罰鍰", "大型垃圾"], "passage")
    assert encoder.calls == [2]
    assert np.allclose(first[0], first[2])
    cache.encode(["罰鍰"], "passage")
    cache.encode(["罰鍰"], "query")
    assert encoder.calls == [2, 1]
    cache.save()

    again = VectorCache(encoder, tmp_path)
    assert len(again) == 3
    assert np.allclose(again.encode(["罰鍰"], "passage"), first[1:2])
    assert encoder.calls == [2, 1]
    assert (again.hits, again.misses) == (1, 0)


def test_cache_of_another_dimension_is_ignored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    small = VectorCache(CountingEncoder(dim=16), tmp_path)
    small.encode(["罰鍰"], "query")
    small.path = tmp_path / "vectors-test-bigram-32.npz"  # pretend it was written for 32 dims
    small.save()
    assert len(VectorCache(CountingEncoder(dim=32), tmp_path)) == 0
