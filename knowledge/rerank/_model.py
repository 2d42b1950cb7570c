"""A linear scorer over the re-ranking features, and its fitting (a conditional logit in numpy).

The model scores each candidate ``w · (x - mean) / scale``; only differences between the
candidates of one query matter. It is fitted by maximising, over labelled queries whose
right FAQ is among the candidates, the log of the softmax probability of the right
candidate(s), with an L2 penalty (Newton's method; a few dozen weights, milliseconds).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.rerank._features import FEATURES, Matrix

__all__ = ["WEIGHTS_FILE", "RerankWeights", "Reranker", "fit"]

WEIGHTS_FILE = Path(__file__).with_name("weights.json")
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class RerankWeights:
    """Fitted weights of named features, with the standardisation they were fitted under."""

    features: tuple[str, ...]
    coef: tuple[float, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    fitted: str = ""  # how: the command and the data

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, text: str) -> RerankWeights:
        raw = json.loads(text)
        return cls(
            tuple(raw["features"]),
            tuple(float(x) for x in raw["coef"]),
            tuple(float(x) for x in raw["mean"]),
            tuple(float(x) for x in raw["scale"]),
            str(raw.get("fitted", "")),
        )


class Reranker:
    """Scores candidates' feature rows (columns as :data:`FEATURES`) with fitted weights."""

    def __init__(self, weights: RerankWeights) -> None:
        unknown = set(weights.features) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown re-ranking features: {sorted(unknown)}")
        self.weights = weights
        columns = [FEATURES.index(name) for name in weights.features]
        scale = np.array(weights.scale, dtype=np.float64)
        coef = np.array(weights.coef, dtype=np.float64) / scale
        self._coef = np.zeros(len(FEATURES), dtype=np.float64)
        self._coef[columns] = coef  # standardisation folded into the weights
        self._offset = -float(coef @ np.array(weights.mean, dtype=np.float64))

    @classmethod
    def shipped(cls) -> Reranker:
        """The weights shipped in ``knowledge/rerank/weights.json``."""
        return cls(RerankWeights.from_json(WEIGHTS_FILE.read_text(encoding="utf-8")))

    def scores(self, rows: Matrix) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = rows @ self._coef + self._offset
        return out


def _softmax(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    e = np.exp(z - z[np.isfinite(z)].max())
    out: npt.NDArray[np.float64] = e / e.sum()
    return out


def _loss(data: Sequence[tuple[Matrix, Mask]], w: npt.NDArray[np.float64], l2: float) -> float:
    """Negative log-likelihood of the right candidates, plus the L2 penalty."""
    total = 0.5 * l2 * float(w @ w)
    for x, r in data:
        z = x @ w
        top = z.max()
        total += float(np.log(np.exp(z - top).sum()) - np.log(np.exp(z[r] - top).sum()))
    return total


def fit(
    lists: Sequence[Matrix],
    right: Sequence[Mask],
    features: Sequence[str] = FEATURES,
    *,
    l2: float = 1.0,
    steps: int = 30,
    fitted: str = "",
) -> RerankWeights:
    """Weights of ``features`` that put the ``right`` rows of each list first (conditional logit).

    ``lists[i]`` holds one row per candidate of query ``i`` (all :data:`FEATURES` columns);
    ``right[i]`` marks its right candidates. Lists without a right candidate are skipped.
    """
    columns = [FEATURES.index(name) for name in features]
    used = [(x[:, columns], r) for x, r in zip(lists, right, strict=True) if r.any() and len(r) > 1]
    if not used:
        raise ValueError("no list holds a right candidate")
    stacked = np.concatenate([x for x, _ in used])
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    data = [((x - mean) / scale, r) for x, r in used]
    w = np.zeros(len(columns))
    loss = _loss(data, w, l2)
    for _ in range(steps):
        grad = l2 * w
        hess = l2 * np.eye(len(columns))
        for x, r in data:
            z = x @ w
            p = _softmax(z)
            q = _softmax(np.where(r, z, -np.inf))  # the right candidates' share of the probability
            expected = p @ x
            grad += expected - q @ x
            centred = x - expected
            hess += (centred * p[:, None]).T @ centred
        step = np.linalg.solve(hess, grad)
        for _ in range(20):  # backtrack until the penalised loss falls
            trial = w - step
            trial_loss = _loss(data, trial, l2)
            if trial_loss <= loss:
                break
            step = step / 2.0
        else:
            break
        w, converged = trial, loss - trial_loss < 1e-9
        loss = trial_loss
        if converged:
            break
    return RerankWeights(
        tuple(features),
        tuple(float(x) for x in w),
        tuple(float(x) for x in mean),
        tuple(float(x) for x in scale),
        fitted,
    )
