"""A deterministic stand-in encoder for tests: hashed character n-grams, no model.

Texts that share characters get similar vectors, so retrieval tests behave
sensibly, and the vectors are identical in every process (``blake2b``, not
``hash()``). Queries and passages are encoded alike.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from knowledge.encoder._protocol import Vectors

__all__ = ["HashingEncoder"]


class HashingEncoder:
    """Counts of character n-grams (of the NFKC-folded, lower-cased text) hashed into ``dim`` buckets."""

    def __init__(self, dim: int = 64, ngram_sizes: tuple[int, ...] = (1, 2, 3)) -> None:
        if dim < 1 or not ngram_sizes or min(ngram_sizes) < 1:
            raise ValueError("dim and n-gram sizes must be positive")
        self._dim = dim
        self.ngram_sizes = ngram_sizes

    @property
    def name(self) -> str:
        return f"hashing-{self._dim}-{'_'.join(map(str, self.ngram_sizes))}"

    @property
    def dim(self) -> int:
        return self._dim

    def warm_up(self) -> None:
        """Nothing to load; present so it can stand in wherever an encoder is warmed up."""

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> Vectors:
        vectors = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            marked = f"\x02{unicodedata.normalize('NFKC', text).lower()}\x03"
            for size in self.ngram_sizes:
                for start in range(max(len(marked) - size + 1, 1)):
                    vectors[row, _bucket(marked[start : start + size], self._dim)] += 1.0
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


@lru_cache(maxsize=65536)
def _bucket(gram: str, dim: int) -> int:
    digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % dim
