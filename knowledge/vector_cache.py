"""Vectors cached by (encoder name, side, content hash of the text), so unchanged text is never re-encoded.

The cache is a dictionary in memory, persisted as one ``.npz`` file per encoder under
``root`` (written atomically). ``encode`` looks every text up, encodes only the misses in
one batch and remembers them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from knowledge.encoder._protocol import Encoder, Vectors

__all__ = ["Side", "VectorCache", "text_hash"]

log = logging.getLogger(__name__)

Side = Literal["query", "passage"]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class VectorCache:
    """Remembers encoder outputs; ``root=None`` keeps them in memory only."""

    def __init__(self, encoder: Encoder, root: Path | str | None = None) -> None:
        self.encoder = encoder
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder.name)
        self.path = Path(root) / f"vectors-{safe}.npz" if root is not None else None
        self._vectors: dict[str, Vectors] = {}
        self._dirty = False
        self.hits = 0
        self.misses = 0
        self._load()

    def __len__(self) -> int:
        return len(self._vectors)

    def _load(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, matrix = data["keys"], data["vectors"]
        except (OSError, ValueError, KeyError) as error:
            log.warning("ignoring unreadable vector cache %s: %s", self.path, error)
            return
        if matrix.ndim != 2 or matrix.shape[1] != self.encoder.dim:
            log.warning("ignoring vector cache %s of another dimension", self.path)
            return
        self._vectors = {str(k): matrix[i] for i, k in enumerate(keys)}
        log.info("loaded %d cached vectors from %s", len(self._vectors), self.path)

    def known(self, text: str, side: Side) -> Vectors | None:
        """The cached vector of ``text`` on ``side``, or ``None`` (nothing is encoded or stored)."""
        return self._vectors.get(f"{side[0]}:{text_hash(text)}")

    def encode(self, texts: Sequence[str], side: Side) -> Vectors:
        """Vectors of ``texts`` (rows in order), encoding only texts not seen before."""
        keys = [f"{side[0]}:{text_hash(t)}" for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            todo = [by_key[k] for k in missing]
            fresh = (
                self.encoder.encode_queries(todo) if side == "query" else self.encoder.encode_passages(todo)
            )
            for key, vector in zip(missing, np.asarray(fresh, dtype=np.float32), strict=True):
                self._vectors[key] = vector
            self._dirty = True
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)

    def save(self) -> None:
        """Write the cache if anything was added (no-op in memory-only mode)."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self._vectors), dtype=np.str_)
        matrix = np.stack(list(self._vectors.values())) if self._vectors else np.zeros((0, self.encoder.dim))
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, keys=keys, vectors=matrix.astype(np.float32))
        os.replace(tmp, self.path)
        self._dirty = False
        log.info("saved %d vectors to %s", len(keys), self.path)
