"""The retriever every process builds from settings: the bot, the action server and ``evaluate``.

One factory, so the engine that ``bot1999 evaluate`` scores is the one that answers citizens.
"""

from __future__ import annotations

from dataclasses import fields, replace

from bot.settings import KnowledgeSettings
from knowledge.encoder import Encoder, load_encoder
from knowledge.retriever import Retriever, RetrieverConfig

__all__ = ["make_encoder", "make_retriever", "retriever_config"]


def retriever_config(knowledge: KnowledgeSettings) -> RetrieverConfig:
    """The tuned defaults of :class:`RetrieverConfig` with the settings' ``retrieval`` values over them."""
    known = {f.name for f in fields(RetrieverConfig)}
    values = {k: v for k, v in knowledge.retrieval.model_dump().items() if k in known}
    return replace(RetrieverConfig(), **values)


def make_encoder(knowledge: KnowledgeSettings, spec: str | None = None) -> Encoder:
    return load_encoder(spec or knowledge.encoder, knowledge.model_cache_dir, quantize=knowledge.quantize)


def make_retriever(knowledge: KnowledgeSettings, encoder: Encoder | None = None) -> Retriever:
    return Retriever(
        encoder or make_encoder(knowledge),
        retriever_config(knowledge),
        cache_root=knowledge.model_cache_dir / "vectors",
    )
