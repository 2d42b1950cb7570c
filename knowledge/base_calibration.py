"""Decision thresholds calibrated on the knowledge base itself: its alternative questions, held out one at a time.

The shipped thresholds were tuned on the city's raw FAQs, which have no alternative
questions and many near-identical siblings: they are careful. A curated base whose entries
carry alternative questions can answer directly far more often. At build time the retriever
asks each sampled alternative question of the base as a query, with that alternative
question taken out of the index (leave-one-out; its entry keeps its other phrasings), and
the right answer is its entry. From those rankings it fits

* ``margin_slope`` and ``confidence_bias``: how the ranking margin turns into the probability
  that the top candidate is right, on this base's scores;
* ``answer_confidence``: the lowest confidence to answer at which at most
  ``MAX_ANSWERED_WRONG`` of the held-out alternative questions are answered wrongly.

The abstain threshold stays the shipped one (no out-of-scope messages to fit it on), and so
does the clarify list's span. A base with fewer than ``MIN_PAIRS`` usable alternative
questions (a raw scraped base) keeps the shipped thresholds. Nothing here reads any labelled
query set. The result is cached under the vector cache's folder, keyed by the content of the
base, the encoder and the ranking settings, so an unchanged base is not calibrated again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from knowledge.calibrate import ANSWER_CONFIDENCES, Evidence, ReplayRetriever, fit_confidence
from knowledge.evaluate import EvalCase, evaluate
from knowledge.faq import FaqRecord
from knowledge.normalize import question_key
from knowledge.retrieval_types import Candidate, RetrieverConfig

__all__ = [
    "MAX_ANSWERED_WRONG",
    "MAX_PAIRS",
    "MIN_PAIRS",
    "Calibration",
    "calibration_key",
    "fit_decisions",
    "held_out_pairs",
    "load_calibration",
    "save_calibration",
]

log = logging.getLogger(__name__)

MIN_PAIRS = 50  # fewer usable alternative questions: keep the shipped thresholds
MAX_PAIRS = 200  # a seeded sample of at most this many (a few seconds of searching)
MAX_ANSWERED_WRONG = 0.02
ANSWER_BONUS = 0.5  # a right direct answer counts 1.5 against 1 for a right "did you mean"
DECISION_FIELDS = {
    "gap_weight",
    "lexical_evidence_weight",
    "abstain_below",
    "margin_slope",
    "confidence_bias",
    "answer_confidence",
    "clarify_candidates",
    "clarify_span",
    "tie_epsilon",
    "twin_margin",
    "calibrate",
}


@dataclass(frozen=True)
class Calibration:
    """The decision parameters fitted on one base, and how they did on its held-out alternative questions."""

    key: str
    pairs: int  # held-out alternative questions asked
    margin_slope: float
    confidence_bias: float
    answer_confidence: float
    top1: float  # of the held-out alternative questions (what the fit saw, for the log)
    answered_correct: float
    answered_wrong: float

    def apply(self, config: RetrieverConfig) -> RetrieverConfig:
        return replace(
            config,
            margin_slope=self.margin_slope,
            confidence_bias=self.confidence_bias,
            answer_confidence=self.answer_confidence,
        )


def calibration_key(
    records: Sequence[FaqRecord], config: RetrieverConfig, encoder: str, reranker: str, synonyms: str
) -> str:
    """A hash of what the calibration depends on: the entries, the encoder, the ranking settings,
    the second stage's weights and the synonym list."""
    digest = hashlib.sha256()
    ranking = {f.name: repr(getattr(config, f.name)) for f in fields(config) if f.name not in DECISION_FIELDS}
    decision = {name: repr(getattr(config, name)) for name in ("tie_epsilon", "twin_margin", "abstain_below")}
    head = {
        "encoder": encoder,
        "reranker": reranker,
        "synonyms": synonyms,
        "ranking": ranking,
        "decision": decision,
        "pairs": MAX_PAIRS,
        "v": 1,
    }
    digest.update(json.dumps(head, sort_keys=True).encode())
    for record in sorted(records, key=lambda r: r.id):
        digest.update(record.id.encode() + b"\0" + record.content_hash().encode() + b"\n")
    return digest.hexdigest()[:32]


def held_out_pairs(records: Sequence[FaqRecord], seed: int = 0) -> list[tuple[FaqRecord, int]]:
    """(entry, index of one of its alternative questions) to hold out, a seeded sample of at most
    :data:`MAX_PAIRS`; alternative questions that another entry also holds are left out (their
    answer is a tie, not a fact about thresholds)."""
    holders: Counter[str] = Counter()
    for record in records:
        holders.update({question_key(text) for text in record.texts()})
    pairs = [
        (record, i)
        for record in records
        for i, alt in enumerate(record.alt_questions)
        if question_key(alt) and holders[question_key(alt)] == 1
    ]
    if len(pairs) > MAX_PAIRS:
        pairs = random.Random(seed).sample(pairs, MAX_PAIRS)
    return pairs


def fit_decisions(key: str, evidence: Sequence[Evidence], config: RetrieverConfig) -> Calibration | None:
    """The confidence curve and answer threshold of this base, or ``None`` if they cannot be fitted."""
    if len(evidence) < MIN_PAIRS:
        return None
    slope, bias = fit_confidence(evidence, config)
    if not slope > 0:
        return None
    fitted = replace(config, margin_slope=slope, confidence_bias=bias)
    cases = [e.case for e in evidence]
    best: tuple[float, float, float, float] | None = None  # objective, threshold, right, wrong
    for threshold in ANSWER_CONFIDENCES:
        report = evaluate(ReplayRetriever(evidence, replace(fitted, answer_confidence=threshold)), cases)
        if report.answered_wrong > MAX_ANSWERED_WRONG:
            continue
        objective = (1 + ANSWER_BONUS) * report.answered_correct + report.clarified_correct
        if best is None or objective > best[0]:
            best = (objective, threshold, report.answered_correct, report.answered_wrong)
    if best is None:
        return None
    top1 = evaluate(ReplayRetriever(evidence, fitted), cases).top1
    return Calibration(key, len(evidence), slope, bias, best[1], top1, best[2], best[3])


def held_out_evidence(
    pairs: Sequence[tuple[FaqRecord, int]],
    update: Callable[[FaqRecord], None],
    search: Callable[[str], list[Candidate]],
) -> list[Evidence]:
    """Each pair's alternative question asked with it taken out of its entry (then put back)."""
    out: list[Evidence] = []
    for record, i in pairs:
        alt = record.alt_questions[i]
        update(
            record.model_copy(
                update={"alt_questions": [a for j, a in enumerate(record.alt_questions) if j != i]}
            )
        )
        case: EvalCase = {"query": alt, "gold": [record.id]}
        out.append(Evidence(case, tuple(search(alt))))
        update(record)
    return out


def _path(folder: Path, key: str) -> Path:
    return folder / f"calibration-{key}.json"


def load_calibration(folder: Path | None, key: str) -> tuple[bool, Calibration | None]:
    """Whether a result for ``key`` is cached, and that result (``None``: this base keeps the given thresholds)."""
    if folder is None or not _path(folder, key).is_file():
        return False, None
    try:
        raw = json.loads(_path(folder, key).read_text(encoding="utf-8"))
        return True, Calibration(**raw["calibration"]) if raw["calibration"] is not None else None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("ignoring unreadable calibration %s: %s", _path(folder, key), error)
        return False, None


def save_calibration(folder: Path | None, key: str, calibration: Calibration | None) -> None:
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    blob = json.dumps({"calibration": asdict(calibration) if calibration else None}, indent=1)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(blob)
    os.replace(tmp, _path(folder, key))
