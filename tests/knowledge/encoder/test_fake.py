"""HashingEncoder: deterministic unit vectors without a model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from knowledge.encoder import Encoder, HashingEncoder

TEXTS = ["路燈不亮", "路燈不亮了怎麼辦", "育兒津貼申請", "", "Street light broken"]


def test_is_an_encoder() -> None:
    assert isinstance(HashingEncoder(), Encoder)


def test_unit_float32_rows_of_dim_columns() -> None:
    vectors = HashingEncoder(dim=32).encode_passages(TEXTS)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(TEXTS), 32)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_deterministic_across_instances_and_processes() -> None:
    first = HashingEncoder().encode_queries(TEXTS)
    np.testing.assert_array_equal(first, HashingEncoder().encode_queries(TEXTS))
    np.testing.assert_array_equal(first, HashingEncoder().encode_passages(TEXTS))
    code = "from knowledge.encoder import HashingEncoder; print(HashingEncoder().encode_queries(['路燈不亮']).tobytes().hex())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == first[0].tobytes().hex()


def test_shared_characters_mean_closer_vectors() -> None:
    lamp, lamp_long, allowance = HashingEncoder(dim=256).encode_queries(TEXTS[:3])
    assert lamp @ lamp_long > lamp @ allowance


def test_empty_input_and_name() -> None:
    encoder = HashingEncoder(dim=16)
    assert encoder.encode_queries([]).shape == (0, 16)
    assert encoder.name == "hashing-16-1_2_3"
    assert encoder.dim == 16


def test_rejects_a_non_positive_dimension() -> None:
    with pytest.raises(ValueError, match="positive"):
        HashingEncoder(dim=0)
