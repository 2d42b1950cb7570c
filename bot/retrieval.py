"""The retriever every process builds from settings: the bot, the action server and ``evaluate``.

One factory, so the engine that ``bot1999 evaluate`` scores is the one that answers citizens.
"""

from __future__ import annotations

from dataclasses import fields, replace

from bot.settings import KnowledgeSettings
from knowledge.encoder import Encoder, load_encoder
from knowledge.retriever import Retriever, RetrieverConfig

__all__ = ["CALIBRATED", "make_encoder", "make_retriever", "retriever_config"]

CALIBRATED = {"margin_slope", "confidence_bias", "answer_confidence"}  # what knowledge.base_calibration fits


def retriever_config(knowledge: KnowledgeSettings) -> RetrieverConfig:
    """The tuned defaults of :class:`RetrieverConfig` with the values the settings set over them.

    With ``rerank`` off the defaults are the first stage's own (its scores, hence its
    decision thresholds, live on another scale than the second stage's). Setting any of the
    thresholds the build calibrates on the base (:data:`CALIBRATED`) turns that calibration
    off unless ``calibrate`` is set too.
    """
    retrieval = knowledge.retrieval
    base = RetrieverConfig.reranked_defaults() if retrieval.rerank else RetrieverConfig.first_stage_defaults()
    known = {f.name for f in fields(RetrieverConfig)}
    values = {k: v for k, v in retrieval.model_dump(exclude_unset=True).items() if k in known}
    if CALIBRATED & set(values) and "calibrate" not in values:
        values["calibrate"] = False  # thresholds set by hand are used as they are
    return replace(base, **values)


def make_encoder(knowledge: KnowledgeSettings, spec: str | None = None) -> Encoder:
    return load_encoder(spec or knowledge.encoder, knowledge.model_cache_dir, quantize=knowledge.quantize)


def make_retriever(knowledge: KnowledgeSettings, encoder: Encoder | None = None) -> Retriever:
    return Retriever(
        encoder or make_encoder(knowledge),
        retriever_config(knowledge),
        cache_root=knowledge.model_cache_dir / "vectors",
    )
