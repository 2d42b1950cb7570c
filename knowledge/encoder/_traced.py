"""A TorchScript-frozen copy of a sentence-transformers model's transformer, for one text at a time.

A one-query encode spends a fifth of its CPU time in Python module calls; a traced and frozen
graph skips them. The trace is checked against the eager model on probe texts of different
lengths when it is made, and not used if the two disagree (the caller falls back to eager).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

__all__ = ["TracedTransformer", "trace_transformer"]

log = logging.getLogger(__name__)

PROBES = ("query: 測試", "query: 請問機車停在騎樓被開了罰單，要怎麼申訴比較快？", "passage: a b c")
AGREEMENT = 0.99999  # least cosine between traced and eager vectors on every probe


class TracedTransformer:
    """Runs the frozen transformer, then the model's own pooling (and normalisation) modules."""

    def __init__(self, model: Any, graph: Any) -> None:
        self.model = model
        self.graph = graph
        self.rest = list(model)[1:]

    def sentence_embedding(self, features: dict[str, Any]) -> Any:
        out = self.graph(features["input_ids"], features["attention_mask"])
        features = {
            **features,
            "token_embeddings": out["last_hidden_state"] if isinstance(out, dict) else out[0],
        }
        for module in self.rest:
            features = module(features)
        return features["sentence_embedding"]


def trace_transformer(model: Any, preprocess: Any) -> TracedTransformer | None:
    """A verified traced copy of ``model``'s first module, or ``None`` when it cannot be made."""
    import torch

    first = model[0]
    inner = getattr(first, "auto_model", None)
    if not isinstance(inner, torch.nn.Module) or model.device.type != "cpu":
        return None
    try:
        example = preprocess([PROBES[1]])
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
            graph = torch.jit.trace(  # type: ignore[no-untyped-call]
                inner, (example["input_ids"], example["attention_mask"]), strict=False, check_trace=False
            )
            graph = torch.jit.freeze(graph.eval())
            traced = TracedTransformer(model, graph)
            for probe in PROBES:
                features = preprocess([probe])
                fast = traced.sentence_embedding(features)
                slow = model(features)["sentence_embedding"]
                cosine = float(torch.nn.functional.cosine_similarity(fast, slow).min())
                if not np.isfinite(cosine) or cosine < AGREEMENT:
                    log.warning("traced encoder disagrees with the model (cosine %.6f): not used", cosine)
                    return None
    except Exception as error:  # any tracing failure only costs speed
        log.warning("could not trace the encoder (%s): one-text encodes stay eager", error)
        return None
    return traced
