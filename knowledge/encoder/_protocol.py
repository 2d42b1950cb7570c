"""The encoder swap point: anything that turns text into unit-length vectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Encoder", "Vectors"]

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Encoder(Protocol):
    """Encodes queries and passages into L2-normalised float32 rows of ``dim`` columns.

    E5-style models need different prefixes for the two sides (``query: `` and
    ``passage: ``); the encoder adds them, callers pass plain text.
    """

    @property
    def name(self) -> str:
        """A stable identifier of the model, used to key cached vectors."""
        ...

    @property
    def dim(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> Vectors: ...

    def encode_passages(self, texts: Sequence[str]) -> Vectors: ...
