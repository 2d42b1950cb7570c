"""What an adaptation run is: its training configuration (part of the cache key) and its outcome."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from knowledge.adapt._pairs import KINDS

__all__ = ["AdaptConfig", "Example", "TrainingStats"]


@dataclass(frozen=True)
class AdaptConfig:
    """Contrastive fine-tuning settings; every field but ``threads`` and ``time_budget_s`` keys the cache.

    The loss is in-batch softmax over cosines times ``scale`` (MultipleNegativesRankingLoss),
    each anchor's candidates being every positive and mined negative of the batch except those
    of its own near-duplicate group. ``time_budget_s`` counts from the trainer's start (the pass
    over the frozen layers included) and stops training between steps: the model is still
    written and returned, its marker says how many steps it ran, and it is not reused as a cache
    hit (the next run trains again).
    """

    epochs: int = 1
    batch_size: int = 32
    max_seq_length: int = 96
    learning_rate: float = 2e-5
    warmup_share: float = 0.1
    scale: float = 20.0
    freeze_embeddings: bool = True
    frozen_layers: int = 0
    hard_negatives: bool = True
    duplicate_cosine: float = 0.95
    kinds: tuple[str, ...] = KINDS
    seed: int = 20
    threads: int = 2
    time_budget_s: float = 600.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.max_seq_length < 8:
            raise ValueError("epochs ≥ 1, batch_size ≥ 2 and max_seq_length ≥ 8 are needed")
        if not 0.0 < self.learning_rate < 1.0 or not 0.0 <= self.warmup_share < 1.0:
            raise ValueError("learning_rate must be in (0, 1) and warmup_share in [0, 1)")
        if set(self.kinds) - set(KINDS) or not self.kinds:
            raise ValueError(f"kinds must be some of {', '.join(KINDS)}")

    def keyed(self) -> str:
        """The fields that change the model, as canonical JSON."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("threads", "time_budget_s")}
        return json.dumps(fields, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Example:
    """One training row: anchor (query side), positive and optional hard negative (passage side),
    with the duplicate group of the positive's and the negative's entries."""

    anchor: str
    positive: str
    group: int
    negative: str | None = None
    negative_group: int = -1


@dataclass(frozen=True)
class TrainingStats:
    examples: int
    steps: int
    planned_steps: int
    seconds: float
    losses: tuple[float, ...] = field(default=())  # mean loss per tenth of the run

    @property
    def complete(self) -> bool:
        return self.steps == self.planned_steps
