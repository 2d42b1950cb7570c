"""The adapted model as a cached artefact keyed by the base's content, the base model and the config.

``adapt`` returns at once when the folder for the key exists (a completed run wrote its
marker last); otherwise it mines examples, trains in a staging folder and renames it into
place under an advisory lock, so concurrent processes train once and readers never see a
half-written model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from knowledge.adapt._config import AdaptConfig, Example, TrainingStats
from knowledge.adapt._negatives import duplicate_groups, hard_negatives
from knowledge.adapt._pairs import TrainingPair, first_passage, training_pairs
from knowledge.adapt._train import Trainer
from knowledge.encoder._protocol import Encoder
from knowledge.faq import FaqRecord
from knowledge.folders import exclusive_lock, new_staging, swap_into_place
from knowledge.vector_cache import VectorCache

__all__ = [
    "ADAPT_VERSION",
    "MARKER",
    "Adapted",
    "adapt",
    "adaptation_key",
    "adapted_dir",
    "changed_share",
    "content_digest",
    "examples_for",
    "find_adapted",
]

log = logging.getLogger(__name__)

ADAPT_VERSION = 1
"""Bump when example building or training changes, so cached models are trained again."""
MARKER = "adapted.json"
FOLDER = "adapted"


@dataclass(frozen=True)
class Adapted:
    folder: Path
    key: str
    name: str  # keys the adapted model's cached vectors
    content: str  # content digest of the base it was trained on
    cached: bool  # found, not trained by this call
    entries: tuple[str, ...]  # the content hash of every entry it was trained on (for the re-run share)


def content_digest(records: Sequence[FaqRecord]) -> str:
    """A digest of the entries' contents (ids excluded, order ignored)."""
    hashes = sorted(record.content_hash() for record in records)
    return hashlib.sha256("\n".join(hashes).encode("ascii")).hexdigest()


def changed_share(trained_on: Sequence[str], records: Sequence[FaqRecord]) -> float:
    """The share of entries added, changed or removed since a model was trained on ``trained_on``
    (content hashes): symmetric difference over the larger of the two bases."""
    before, now = set(trained_on), {record.content_hash() for record in records}
    larger = max(len(before), len(now))
    return len(before ^ now) / 2 / larger if larger else 0.0


def adaptation_key(records: Sequence[FaqRecord], base_model: str, config: AdaptConfig) -> str:
    blob = "\n".join((f"v{ADAPT_VERSION}", content_digest(records), base_model, config.keyed()))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def adapted_dir(cache_root: Path, key: str) -> Path:
    return cache_root / FOLDER / f"e5-adapted-{key[:16]}"


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        marker: dict[str, Any] = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker


def _adapted(folder: Path, marker: dict[str, Any], cached: bool) -> Adapted:
    return Adapted(
        folder=folder,
        key=str(marker["key"]),
        name=f"e5-adapted-{str(marker['key'])[:16]}",
        content=str(marker["content"]),
        cached=cached,
        entries=tuple(marker.get("entries", ())),
    )


def find_adapted(cache_root: Path, key: str) -> Adapted | None:
    """The completed adaptation for ``key`` under ``cache_root``, if there is one (a run stopped by
    its time budget does not count)."""
    folder = adapted_dir(cache_root, key)
    marker = _read_marker(folder)
    if marker is None or marker.get("key") != key or not marker.get("stats", {}).get("complete", False):
        return None  # a run its time budget cut short is not reused: the next run trains again
    return _adapted(folder, marker, cached=True)


def examples_for(
    records: Sequence[FaqRecord], base: Encoder, config: AdaptConfig, vectors: VectorCache | None = None
) -> list[Example]:
    """The training rows of ``records``: pairs, duplicate groups and mined hard negatives.

    The base encoder's question vectors come from ``vectors`` (the retriever's cache, so a base
    that is already indexed costs nothing to mine) when it is given.
    """
    cache = vectors if vectors is not None else VectorCache(base)
    questions = cache.encode([record.question for record in records], "passage")
    groups = duplicate_groups(records, questions, config.duplicate_cosine)
    mined = hard_negatives(records, questions, groups, config.seed) if config.hard_negatives else []
    pairs = training_pairs(records, config.seed, config.kinds)

    def negative(pair: TrainingPair) -> tuple[str | None, int]:
        other = mined[pair.entry] if mined else None
        if other is None:
            return None, -1
        record = records[other]
        return (record.question if pair.positive_is_question else first_passage(record)), groups[other]

    out = []
    for pair in pairs:
        text, group = negative(pair)
        out.append(Example(pair.anchor, pair.positive, groups[pair.entry], text, group))
    return out


def adapt(
    records: Sequence[FaqRecord],
    base_folder: Path,
    base: Encoder,
    cache_root: Path,
    trainer: Trainer,
    config: AdaptConfig | None = None,
    *,
    base_model: str | None = None,
    vectors: VectorCache | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Adapted:
    """The adapted model for ``records`` (trained now unless cached); ``base_model`` (default: the
    base encoder's name) identifies the starting weights in the key."""
    config = config or AdaptConfig()
    if not records:
        raise ValueError("cannot adapt an encoder to an empty knowledge base")
    key = adaptation_key(records, base_model or base.name, config)
    if (found := find_adapted(cache_root, key)) is not None:
        return found
    dest = adapted_dir(cache_root, key)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(dest.parent / f".{dest.name}.lock"):
        if (found := find_adapted(cache_root, key)) is not None:  # another process finished meanwhile
            return found
        started = clock()
        examples = examples_for(records, base, config, vectors)
        if vectors is not None:
            vectors.save()  # the base's question vectors, for the retriever and the next run
        mined = clock() - started
        staging = new_staging(dest)
        try:
            stats = trainer.train(base_folder, examples, config, staging, clock)
            marker = _marker(records, key, base_model or base.name, config, stats, mined)
            (staging / MARKER).write_text(json.dumps(marker, indent=2, ensure_ascii=False) + "\n", "utf-8")
            swap_into_place(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    log.info("adapted the encoder to %d entries in %.0f s (%s)", len(records), clock() - started, dest)
    return _adapted(dest, marker, cached=False)


def _marker(
    records: Sequence[FaqRecord],
    key: str,
    base_model: str,
    config: AdaptConfig,
    stats: TrainingStats,
    mined: float,
) -> dict[str, Any]:
    return {
        "key": key,
        "version": ADAPT_VERSION,
        "content": content_digest(records),
        "base_model": base_model,
        "config": json.loads(config.keyed()),
        "stats": {**asdict(stats), "complete": stats.complete, "mining_seconds": round(mined, 1)},
        "entries": sorted(record.content_hash() for record in records),
    }
