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
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from knowledge.encoder._protocol import Vectors
from knowledge.encoder._traced import TracedTransformer, trace_transformer

__all__ = ["E5_PREFIXES", "Quantize", "SentenceTransformerEncoder"]

logger = logging.getLogger(__name__)

E5_PREFIXES = ("query: ", "passage: ")
Quantize = Literal["none", "int8"]


class SentenceTransformerEncoder:
    """Lazy: the model loads on :meth:`warm_up` or on first use, not in the constructor.

    ``query_prefix``/``passage_prefix`` default to e5's; pass ``""`` for models
    trained without them. ``name`` (default: ``model_name_or_path``) keys cached vectors.

    ``quantize="int8"`` replaces the transformer's linear layers by dynamically quantised
    int8 ones on the CPU (weights int8, activations quantised per batch): about 2.5 times
    less CPU per query for cosines within about 0.02 of the float model; the name gets an
    ``-int8`` suffix so its vectors are cached apart. ``docs/benchmarks.md`` compares both.

    ``trace=True`` encodes a single text (a citizen's query) through a TorchScript-frozen copy
    of the transformer, verified against the eager model when made (see ``_traced``).

    Loading the model limits the process's numeric thread pools (torch, numpy's BLAS, faiss)
    to ``threads`` — by default one, or ``OMP_NUM_THREADS`` when set: one thread per query
    (:mod:`knowledge.threads`).
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
        quantize: Quantize = "none",
        trace: bool = True,
        threads: int | None = None,
    ) -> None:
        if quantize not in ("none", "int8"):
            raise ValueError(f"quantize must be 'none' or 'int8', not {quantize!r}")
        self.model_name_or_path = model_name_or_path
        self.quantize = quantize
        self.trace = trace
        self.threads = threads
        self._tracer: tuple[TracedTransformer | None] | None = None
        self.device = device
        self.batch_size = batch_size
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._name = (name or model_name_or_path) + ("-int8" if quantize == "int8" else "")
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
        """The model's own modules (tokeniser, transformer, pooling) over length-sorted batches.

        Calls the modules directly rather than ``SentenceTransformer.encode``, which moves the
        model to its device on every call: a few milliseconds that a one-query call cannot spare.
        """
        import torch

        model = self._loaded()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        preprocess = getattr(model, "preprocess", None) or model.tokenize  # ``tokenize`` before 5.x
        if len(texts) == 1 and (traced := self._traced(model, preprocess)) is not None:
            with torch.inference_mode():
                embedded = traced.sentence_embedding(preprocess(texts))
                return torch.nn.functional.normalize(embedded.float(), p=2, dim=1).numpy()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                features = preprocess([texts[i] for i in rows])
                if self.device != "cpu":
                    features = {key: value.to(self.device) for key, value in features.items()}
                embedded = model(features)["sentence_embedding"]
                embedded = torch.nn.functional.normalize(embedded.float(), p=2, dim=1)
                out[rows] = embedded.cpu().numpy()
        return out

    def _traced(self, model: Any, preprocess: Any) -> TracedTransformer | None:
        """The traced one-text path (made on first use; ``None`` if it cannot be made or is off)."""
        if not self.trace:
            return None
        if self._tracer is None:
            with self._lock:
                if self._tracer is None:
                    self._tracer = (trace_transformer(model, preprocess),)
        return self._tracer[0]

    def _loaded(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        path = Path(self.model_name_or_path).expanduser()
        local = path.is_dir()
        if not local and (path.is_absolute() or self.model_name_or_path.startswith((".", "~"))):
            raise FileNotFoundError(f"no model folder at {path}")  # before torch's seconds of import
        from sentence_transformers import SentenceTransformer

        from knowledge.threads import limit_threads

        limit_threads(self.threads)

        logger.info("loading sentence-transformers model %s on %s", self.model_name_or_path, self.device)
        model = SentenceTransformer(
            str(path) if local else self.model_name_or_path, device=self.device, local_files_only=local
        )
        model.eval()
        if self.quantize == "int8":
            _quantize_int8(model)
        return model


def _quantize_int8(model: Any) -> None:
    """Swap the linear layers of every transformer module for dynamically quantised int8 ones."""
    import torch

    if not torch.backends.quantized.supported_engines or model.device.type != "cpu":
        raise RuntimeError("int8 quantisation needs a CPU with a quantised engine (fbgemm or onednn)")
    with warnings.catch_warnings():  # torch.ao.quantization warns of its planned move to torchao
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        inners = [m.auto_model for m in model if isinstance(getattr(m, "auto_model", None), torch.nn.Module)]
        for inner in inners:
            torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                inner, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
            )
    if not inners or any(type(layer) is torch.nn.Linear for inner in inners for layer in inner.modules()):
        raise RuntimeError("int8 quantisation found no transformer to quantise or left float layers in it")


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
