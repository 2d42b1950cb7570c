"""In-domain adaptation of the encoder: contrastive fine-tuning on the knowledge base's own texts.

Examples come from the base alone (:mod:`._pairs`: question→answer passage, alternative
question↔question, answer sentence→question), never from anyone's queries; near-duplicate
entries are never negatives of each other and hard negatives are close siblings under the base
model (:mod:`._negatives`); the trainer (:class:`Trainer`, :class:`TorchTrainer`) writes a
sentence-transformers folder, cached by the base's content, the base model and the config
(:func:`adapt`). ``python -m knowledge.adapt`` runs it in the foreground.
"""

from __future__ import annotations

from knowledge.adapt._cache import (
    ADAPT_VERSION,
    Adapted,
    adapt,
    adaptation_key,
    adapted_dir,
    changed_share,
    content_digest,
    examples_for,
    find_adapted,
)
from knowledge.adapt._config import AdaptConfig, Example, TrainingStats
from knowledge.adapt._negatives import duplicate_groups, hard_negatives
from knowledge.adapt._pairs import KINDS, TrainingPair, answer_sentences, training_pairs
from knowledge.adapt._train import TorchTrainer, Trainer

__all__ = [
    "ADAPT_VERSION",
    "KINDS",
    "AdaptConfig",
    "Adapted",
    "Example",
    "TorchTrainer",
    "Trainer",
    "TrainingPair",
    "TrainingStats",
    "adapt",
    "adaptation_key",
    "adapted_dir",
    "answer_sentences",
    "changed_share",
    "content_digest",
    "duplicate_groups",
    "examples_for",
    "find_adapted",
    "hard_negatives",
    "training_pairs",
]
