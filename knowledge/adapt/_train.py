"""The trainer swap point and its torch implementation (sentence-transformers model, CPU)."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from knowledge.adapt._config import AdaptConfig, Example, TrainingStats

__all__ = ["TorchTrainer", "Trainer"]

log = logging.getLogger(__name__)

QUERY, PASSAGE = "query: ", "passage: "


class Trainer(Protocol):
    """Fine-tunes the model folder ``base`` on ``examples`` and writes the result as a
    sentence-transformers folder into the existing, empty folder ``out``."""

    def train(
        self,
        base: Path,
        examples: Sequence[Example],
        config: AdaptConfig,
        out: Path,
        clock: Callable[[], float],
    ) -> TrainingStats: ...


class TorchTrainer:
    """In-batch-negatives contrastive training with false negatives masked, on the CPU.

    Seeds are fixed (python, torch); the batches of a run depend only on the examples and the
    seed. Texts of a step are encoded in length-sorted chunks so short questions are not padded
    to the length of answer passages.

    With ``frozen_layers`` > 0 the embeddings and the lowest layers are frozen and their output
    for every distinct text is computed once, without gradients (:class:`_Trunk`); each step
    then runs only the upper layers: about three times as fast, but on the Kaohsiung base 9 frozen
    layers lost 3 points of first-stage top-1 where training every layer (the default: only the
    word embeddings frozen; about 5 s a step on two idle cores) gained 3.5
    (docs/knowledge-base.md, "Adapting the encoder").
    """

    def __init__(self, chunk: int = 32) -> None:
        self.chunk = chunk

    def train(
        self,
        base: Path,
        examples: Sequence[Example],
        config: AdaptConfig,
        out: Path,
        clock: Callable[[], float],
    ) -> TrainingStats:
        import torch
        from sentence_transformers import SentenceTransformer

        started = clock()
        torch.manual_seed(config.seed)
        torch.set_num_threads(config.threads)
        model = SentenceTransformer(str(base), device="cpu", local_files_only=True)
        model.max_seq_length = config.max_seq_length
        _freeze(model, config)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
        batches = _batches(len(examples), config)
        warmup = max(1, int(len(batches) * config.warmup_share))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser,
            lambda step: min(
                (step + 1) / warmup, max(0.0, (len(batches) - step) / max(1, len(batches) - warmup))
            ),
        )
        trunk = _Trunk(model, examples, self.chunk) if config.frozen_layers > 0 else None
        losses: list[float] = []
        steps = 0
        for rows in batches:
            if clock() - started > config.time_budget_s:
                log.warning("adaptation stopped by its time budget after %d of %d steps", steps, len(batches))
                break
            loss = _loss(model, [examples[i] for i in rows], config, self.chunk, trunk)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
            steps += 1
            if steps % 5 == 0:
                log.info(
                    "adaptation step %d/%d, loss %.3f, %.0f s",
                    steps,
                    len(batches),
                    losses[-1],
                    clock() - started,
                )
        model.eval()
        model.save(str(out))
        tenths = [losses[i * len(losses) // 10 : (i + 1) * len(losses) // 10] for i in range(10)]
        return TrainingStats(
            examples=len(examples),
            steps=steps,
            planned_steps=len(batches),
            seconds=clock() - started,
            losses=tuple(round(sum(t) / len(t), 4) for t in tenths if t),
        )


def _freeze(model: Any, config: AdaptConfig) -> None:
    inner = model[0].auto_model
    if config.frozen_layers >= len(inner.encoder.layer):
        raise ValueError(
            f"frozen_layers={config.frozen_layers} leaves none of the model's {len(inner.encoder.layer)} layers to train"
        )
    if config.freeze_embeddings:
        inner.embeddings.word_embeddings.weight.requires_grad_(False)
    if config.frozen_layers > 0:  # the trunk: embeddings and the lowest layers, computed once
        for module in (inner.embeddings, *inner.encoder.layer[: config.frozen_layers]):
            module.requires_grad_(False)


class _Trunk:
    """The frozen embeddings and lowest ``frozen_layers`` layers' output for each distinct text,
    computed once without gradients; :meth:`embed` runs the upper layers on top of it."""

    def __init__(self, model: Any, examples: Sequence[Example], chunk: int) -> None:
        import torch

        inner = model[0].auto_model
        self.model = model
        self.lower = list(inner.encoder.layer[: _frozen_count(inner)])
        self.upper = list(inner.encoder.layer[len(self.lower) :])
        texts = sorted(
            {QUERY + e.anchor for e in examples}
            | {PASSAGE + e.positive for e in examples}
            | {PASSAGE + e.negative for e in examples if e.negative is not None},
            key=len,
        )
        preprocess = getattr(model, "preprocess", None) or model.tokenize
        self.states: dict[str, Any] = {}
        inner.eval()
        with torch.no_grad():
            for start in range(0, len(texts), chunk):
                part = texts[start : start + chunk]
                features = preprocess(part)
                mask = features["attention_mask"]
                hidden = inner.embeddings(
                    input_ids=features["input_ids"], token_type_ids=features.get("token_type_ids")
                )
                additive = _additive(mask, hidden.dtype)
                for layer in self.lower:
                    hidden = _layer(layer, hidden, additive)
                for text, row, length in zip(part, hidden, mask.sum(dim=1).tolist(), strict=True):
                    self.states[text] = row[: int(length)].clone()
        for layer in self.upper:
            layer.train()
        log.info("adaptation trunk: %d texts through %d frozen layers", len(texts), len(self.lower))

    def embed(self, texts: list[str], chunk: int) -> Any:
        import torch

        order = sorted(range(len(texts)), key=lambda i: self.states[texts[i]].shape[0])
        parts = []
        for start in range(0, len(order), chunk):
            rows = [self.states[texts[i]] for i in order[start : start + chunk]]
            longest = max(r.shape[0] for r in rows)
            hidden = torch.zeros(len(rows), longest, rows[0].shape[1])
            mask = torch.zeros(len(rows), longest, dtype=torch.long)
            for n, r in enumerate(rows):
                hidden[n, : r.shape[0]] = r
                mask[n, : r.shape[0]] = 1
            additive = _additive(mask, hidden.dtype)
            for layer in self.upper:
                hidden = _layer(layer, hidden, additive)
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            parts.append((hidden * weights).sum(dim=1) / weights.sum(dim=1))  # mean pooling, as Pooling
        return _reordered(torch.cat(parts), order)


def _frozen_count(inner: Any) -> int:
    return sum(1 for layer in inner.encoder.layer if not any(p.requires_grad for p in layer.parameters()))


def _additive(mask: Any, dtype: Any) -> Any:
    import torch

    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def _layer(layer: Any, hidden: Any, additive: Any) -> Any:
    out = layer(hidden, attention_mask=additive)
    return out[0] if isinstance(out, tuple) else out


def _reordered(stacked: Any, order: list[int]) -> Any:
    import torch

    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return torch.nn.functional.normalize(stacked[inverse], p=2, dim=1)


def _batches(n: int, config: AdaptConfig) -> list[list[int]]:
    """Each epoch a seeded shuffle cut into batches (a last batch of one is dropped: it has no negatives)."""
    out: list[list[int]] = []
    rng = random.Random(config.seed)
    for _ in range(config.epochs):
        order = list(range(n))
        rng.shuffle(order)
        out += [order[i : i + config.batch_size] for i in range(0, n, config.batch_size)]
    return [rows for rows in out if len(rows) > 1]


def _loss(model: Any, batch: Sequence[Example], config: AdaptConfig, chunk: int, trunk: _Trunk | None) -> Any:
    import torch

    anchors = [QUERY + e.anchor for e in batch]
    positives = [PASSAGE + e.positive for e in batch]
    negatives = [PASSAGE + e.negative for e in batch if e.negative is not None]
    texts = anchors + positives + negatives
    embedded = trunk.embed(texts, chunk) if trunk is not None else _embed(model, texts, chunk)
    size = len(batch)
    anchor, candidates = embedded[:size], embedded[size:]
    groups = [e.group for e in batch] + [e.negative_group for e in batch if e.negative is not None]
    own = torch.tensor([e.group for e in batch]).unsqueeze(1)
    same = own == torch.tensor(groups).unsqueeze(0)  # candidates of the anchor's own group …
    same[torch.arange(size), torch.arange(size)] = False  # … but its positive, are no negatives
    logits = (anchor @ candidates.T) * config.scale
    logits = logits.masked_fill(same, -math.inf)
    return torch.nn.functional.cross_entropy(logits, torch.arange(size))


def _embed(model: Any, texts: list[str], chunk: int) -> Any:
    """Normalised embeddings of ``texts`` in order, encoded in length-sorted chunks (with gradients)."""
    import torch

    preprocess = getattr(model, "preprocess", None) or model.tokenize
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = []
    for start in range(0, len(order), chunk):
        rows = order[start : start + chunk]
        features = preprocess([texts[i] for i in rows])
        parts.append(model(features)["sentence_embedding"])
    return _reordered(torch.cat(parts), order)
