"""An :class:`~knowledge.encoder.Encoder` backed by any sentence-transformers model.

A local folder (such as the one :func:`~knowledge.encoder.materialise` writes)
is opened with ``local_files_only``, so it never reaches for the network; a hub
name such as ``intfloat/multilingual-e5-small`` is passed through for users who
have hub access.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.encoder._protocol import Vectors

__all__ = ["E5_PREFIXES", "SentenceTransformerEncoder"]

logger = logging.getLogger(__name__)

E5_PREFIXES = ("query: ", "passage: ")


class SentenceTransformerEncoder:
    """Lazy: the model loads on :meth:`warm_up` or on first use, not in the constructor.

    ``query_prefix``/``passage_prefix`` default to e5's; pass ``""`` for models
    trained without them. ``name`` (default: ``model_name_or_path``) keys cached vectors.
    """

    def __init__(
        self,
        model_name_or_path: str,
        device: str = "cpu",
        batch_size: int = 64,
        *,
        query_prefix: str = E5_PREFIXES[0],
        passage_prefix: str = E5_PREFIXES[1],
        name: str | None = None,
    ) -> None:
        self.model_name_or_path = model_name_or_path
        self.device = device
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._name = name or model_name_or_path
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        """Read from a local folder's pooling config when it can be, so ``isinstance`` checks stay cheap."""
        if self._model is None and (known := _folder_dimension(Path(self.model_name_or_path))) is not None:
            return known
        model = self._loaded()
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dimension())

    @property
    def model(self) -> Any:
        """The underlying ``SentenceTransformer`` (loaded on first access)."""
        return self._loaded()

    def warm_up(self) -> None:
        """Load the model now (idempotent, thread-safe)."""
        self._loaded()

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode([self.query_prefix + text for text in texts])

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encode([self.passage_prefix + text for text in texts])

    def _encode(self, texts: list[str]) -> Vectors:
        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        from sentence_transformers import SentenceTransformer

        path = Path(self.model_name_or_path).expanduser()
        local = path.is_dir()
        if not local and (path.is_absolute() or self.model_name_or_path.startswith((".", "~"))):
            raise FileNotFoundError(f"no model folder at {path}")
        logger.info("loading sentence-transformers model %s on %s", self.model_name_or_path, self.device)
        return SentenceTransformer(
            str(path) if local else self.model_name_or_path, device=self.device, local_files_only=local
        )


def _folder_dimension(folder: Path) -> int | None:
    """The output size of a Transformer + Pooling (+ Normalize) folder, or ``None`` if it is another shape."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        return int(pooling["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
