"""FAQ retrieval: dense and lexical evidence fused per FAQ, then answer, clarify or abstain.

Per FAQ the fused score is ``dense_question + answer_weight * dense_answer +
lexical_weight * lexical`` where ``dense_question`` is the best cosine between the query
and the FAQ's question or alternative questions, ``dense_answer`` the best cosine with one
of its answer passages, and ``lexical`` its BM25 score divided by the query's best BM25
score. FAQs with the same question text collapse into one candidate. With
``config.rerank`` the second stage (:mod:`knowledge.rerank`) then re-orders the
``rerank_depth`` best candidates. The decision reads the top ten candidates' scores (see
:class:`RetrieverConfig`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.base_calibration import (
    MIN_PAIRS,
    Calibration,
    calibration_key,
    fit_decisions,
    held_out_evidence,
    held_out_pairs,
    load_calibration,
    save_calibration,
)
from knowledge.encoder._protocol import Encoder, Vectors
from knowledge.faq import FaqRecord
from knowledge.index import DenseIndex
from knowledge.lexical import LexicalIndex
from knowledge.normalize import question_key
from knowledge.passages import answer_passages
from knowledge.rerank import FaqProfile, Matrix, Reranker, features, hub_scores, profile_faq, query_terms
from knowledge.retrieval_types import BuildStats, Candidate, Decision, RetrieverConfig
from knowledge.synonyms import Synonyms, default_synonyms
from knowledge.vector_cache import Side, VectorCache, text_hash

__all__ = ["BuildStats", "Candidate", "Decision", "Retriever", "RetrieverConfig"]

log = logging.getLogger(__name__)

DECISION_DEPTH = 10  # candidates the decision looks at (its score gap spans them)


@dataclass
class _Entry:
    record: FaqRecord
    key: str
    duplicates: list[str] = field(default_factory=list)
    text_keys: tuple[str, ...] = ()  # question_key of each of record.texts(), derived on first use

    def text_key(self, i: int) -> str:
        if not self.text_keys:
            self.text_keys = tuple(question_key(text) for text in self.record.texts())
        return self.text_keys[i]


class _CachedQueries:
    """An encoder whose one-text queries come from the vector cache when it holds them (the
    base's own questions, asked back during calibration); everything else goes to ``encoder``."""

    def __init__(self, encoder: Encoder, cache: VectorCache) -> None:
        self._encoder = encoder
        self._cache = cache

    @property
    def name(self) -> str:
        return self._encoder.name

    @property
    def dim(self) -> int:
        return self._encoder.dim

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        known = self._cache.known(texts[0], "query") if len(texts) == 1 else None
        return known.reshape(1, -1) if known is not None else self._encoder.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        return self._encoder.encode_passages(texts)


class Retriever:
    """Hybrid FAQ retriever. The constructor is cheap; :meth:`build` encodes and indexes."""

    def __init__(
        self,
        encoder: Encoder,
        config: RetrieverConfig | None = None,
        *,
        cache_root: Path | str | None = None,
        synonyms: Synonyms | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.encoder = encoder
        self._settings = self._config = config or RetrieverConfig()
        self.calibration: Calibration | None = None  # fitted on the base at the last build
        self._synonyms = synonyms
        self._reranker = reranker
        self._profiles: dict[str, FaqProfile] = {}
        self._hubs: tuple[int, dict[str, float]] | None = None
        self._cache_root = cache_root
        self._cache: VectorCache | None = None
        self._dense = self._new_dense()
        self._lexical: LexicalIndex | None = None
        self._entries: dict[str, _Entry] = {}
        self._slot_cache: dict[str, tuple[tuple[int, int], Vectors, npt.NDArray[np.intp]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def config(self) -> RetrieverConfig:
        """The config in force: the one given, with the decision parameters calibrated on the base
        at the last :meth:`build` (see :mod:`knowledge.base_calibration`) when ``calibrate`` is on."""
        return self._config

    @config.setter
    def config(self, config: RetrieverConfig) -> None:
        """Use ``config`` as it is (until the next :meth:`build` calibrates it again)."""
        self._settings = self._config = config

    def with_synonyms(self, synonyms: Synonyms | None) -> Retriever:
        """An empty retriever like this one (encoder, config, vector cache) rewriting with ``synonyms``.

        Synonyms shape the lexical index, so a new list needs a new index: :meth:`build` it.
        """
        return Retriever(
            self.encoder,
            self._settings,
            cache_root=self._cache_root,
            synonyms=synonyms,
            reranker=self._reranker,
        )

    def _new_dense(self) -> dict[str, DenseIndex]:
        """Questions and answer passages in separate indexes: their cosines live on different scales."""
        return {
            kind: DenseIndex(self.encoder.dim, flat_limit=self.config.flat_limit)
            for kind in ("question", "answer")
        }

    def _rewrite(self, text: str) -> str:
        synonyms = self._synonyms if self._synonyms is not None else default_synonyms()
        return synonyms.apply(text)

    def _warm(self) -> tuple[VectorCache, LexicalIndex]:
        if self._cache is None:
            self._cache = VectorCache(self.encoder, self._cache_root)
        if self._lexical is None:
            self._lexical = LexicalIndex(self.config.lexical, self._rewrite)
        return self._cache, self._lexical

    def build(self, records: Iterable[FaqRecord]) -> BuildStats:
        """Index ``records`` from scratch (cached vectors are reused)."""
        started = time.perf_counter()
        cache, lexical = self._warm()
        self._dense = self._new_dense()
        self._lexical = lexical = LexicalIndex(self.config.lexical, self._rewrite)
        self._entries = {}
        self._profiles = {}
        misses = cache.misses
        records = list(records)
        self._index_vectors(records)
        for record in records:
            self._entries[record.id] = _Entry(record, question_key(record.question))
            lexical.set(record.id, record.texts(), record.answer)
        cache.save()
        self._calibrate(records)
        stats = BuildStats(
            len(records),
            sum(len(index) for index in self._dense.values()),
            cache.misses - misses,
            time.perf_counter() - started,
        )
        log.info("built retrieval index: %s", stats)
        return stats

    def _calibrate(self, records: list[FaqRecord]) -> None:
        """Fit the decision thresholds to this base on its own alternative questions (or keep the given ones)."""
        settings = self._settings
        self.calibration = None
        self._config = settings
        if not settings.calibrate:
            return
        pairs = held_out_pairs(records)
        if len(pairs) < MIN_PAIRS:
            return
        cache, _ = self._warm()
        reranker = text_hash(self.reranker.weights.to_json()) if settings.rerank else ""
        synonyms = self._synonyms if self._synonyms is not None else default_synonyms()
        rules = text_hash(repr(sorted(synonyms.rules.items())))
        key = calibration_key(records, settings, self.encoder.name, reranker, rules)
        folder = Path(self._cache_root) if self._cache_root is not None else None
        found, cached = load_calibration(folder, key)
        if not found:
            started = time.perf_counter()
            scratch = Retriever(
                _CachedQueries(self.encoder, cache),
                replace(settings, calibrate=False),
                synonyms=self._synonyms,
                reranker=self._reranker,
            )
            scratch._cache = cache
            scratch.build(records)
            evidence = held_out_evidence(pairs, scratch.update, lambda q: scratch.search(q, k=DECISION_DEPTH))
            cached = fit_decisions(key, evidence, settings)
            save_calibration(folder, key, cached)
            log.info(
                "decision thresholds calibrated on %d held-out alternative questions in %.1f s: %s",
                len(evidence),
                time.perf_counter() - started,
                cached or "kept the given ones",
            )
        if cached is not None:
            self.calibration = cached
            self._config = cached.apply(settings)

    def _index_vectors(self, records: list[FaqRecord]) -> None:
        cache, _ = self._warm()
        cfg = self.config
        questions = [text for r in records for text in r.texts()]
        passages = [list(answer_passages(r.answer, cfg.passage_chars, cfg.max_passages)) for r in records]
        q_side: Side = "query" if cfg.questions_as_queries else "passage"
        q_vectors = cache.encode(questions, q_side)
        a_vectors = cache.encode([p for ps in passages for p in ps], "passage")
        qi = ai = 0
        for record, record_passages in zip(records, passages, strict=True):
            nq, na = len(record.texts()), len(record_passages)
            self._dense["question"].set(record.id, ["question"] * nq, q_vectors[qi : qi + nq])
            if na:
                self._dense["answer"].set(record.id, ["answer"] * na, a_vectors[ai : ai + na])
            else:
                self._dense["answer"].remove(record.id)
            qi, ai = qi + nq, ai + na

    def update(self, record: FaqRecord) -> None:
        """Add or replace one FAQ (only its changed texts are encoded)."""
        cache, lexical = self._warm()
        self._index_vectors([record])
        self._entries[record.id] = _Entry(record, question_key(record.question))
        self._profiles.pop(record.id, None)
        lexical.set(record.id, record.texts(), record.answer)
        cache.save()

    def remove(self, faq_id: str) -> None:
        for index in self._dense.values():
            index.remove(faq_id)
        self._entries.pop(faq_id, None)
        self._profiles.pop(faq_id, None)
        if self._lexical is not None:
            self._lexical.remove(faq_id)

    def search(self, query: str, k: int = 10) -> list[Candidate]:
        """Up to ``k`` distinct FAQs for ``query``, best first (re-ranked when ``config.rerank``)."""
        if not self.config.rerank:
            return self.first_stage(query, k)
        return self.rerank(query, self.first_stage(query, max(k, self.config.rerank_depth)))[:k]

    def first_stage(self, query: str, k: int = 10) -> list[Candidate]:
        """Up to ``k`` distinct FAQs for ``query`` by fused first-stage score, best first."""
        cfg = self.config
        _, lexical = self._warm()
        normalised = lexical.normalise(query)
        if not self._entries or not normalised:
            return []
        text = normalised if cfg.rewrite_dense_query else query
        vector = self.encoder.encode_queries([text])[0]
        raw = lexical.scores_normalised(normalised)
        top_lexical = float(raw.max()) if raw.size else 0.0
        scale = 1.0 / top_lexical if top_lexical > 0 else 0.0
        if all(index.kind == "flat" for index in self._dense.values()):
            scored = self._score_exact(vector, raw, scale, lexical)
        else:
            scored = self._score_pooled(vector, raw, scale, lexical)
        scored.sort(key=lambda c: (-c.score, c.faq_id))
        return [self._with_match(c, vector) for c in self._collapse(scored, k)]

    def _with_match(self, candidate: Candidate, vector: Vectors) -> Candidate:
        """``candidate`` with the key of its question or alternative question nearest to the query."""
        rows = self._dense["question"].vectors(candidate.faq_id)
        if rows is None or not len(rows):
            return candidate
        best = int(np.argmax(rows @ vector)) if len(rows) > 1 else 0
        return replace(candidate, matched=self._entries[candidate.faq_id].text_key(best))

    @property
    def reranker(self) -> Reranker:
        """The second stage (the shipped weights unless one was given)."""
        if self._reranker is None:
            self._reranker = Reranker.shipped()
        return self._reranker

    @reranker.setter
    def reranker(self, reranker: Reranker) -> None:
        self._reranker = reranker

    def normalise(self, query: str) -> str:
        """``query`` as the lexical side sees it (folded, punctuation to spaces, synonyms applied)."""
        _, lexical = self._warm()
        return lexical.normalise(query)

    def rerank(self, query: str, candidates: list[Candidate]) -> list[Candidate]:
        """``candidates`` (first-stage order) re-scored by the second stage, best first."""
        if len(candidates) < 2:
            return candidates
        scores = self.reranker.scores(self.rerank_features(query, candidates))
        order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
        return [replace(candidates[i], rerank=float(scores[i])) for i in order]

    def rerank_features(self, query: str, candidates: list[Candidate]) -> Matrix:
        """The second stage's feature rows of ``candidates`` for ``query`` (columns: ``knowledge.rerank.FEATURES``)."""
        _, lexical = self._warm()
        normalised = lexical.normalise(query)
        ids = [c.faq_id for c in candidates]
        used = self.reranker.weights.features
        per_field = (
            lexical.field_scores(normalised, ids) if any(f.startswith("bm25_") for f in used) else None
        )
        return features(
            query_terms(normalised), candidates, [self.profile(faq_id) for faq_id in ids], per_field
        )

    def profile(self, faq_id: str) -> FaqProfile:
        """What the re-ranking features read of one indexed FAQ (derived once, kept until it changes)."""
        profile = self._profiles.get(faq_id)
        if profile is None:
            _, lexical = self._warm()
            record = self._entries[faq_id].record
            hub = self._hub_scores().get(faq_id, 0.0) if "hub" in self.reranker.weights.features else 0.0
            profile = profile_faq(record.texts(), record.answer, record.agency, lexical.normalise, hub)
            self._profiles[faq_id] = profile
        return profile

    def _hub_scores(self) -> dict[str, float]:
        """Hubness of every FAQ's question (recomputed when the question index changes)."""
        index = self._dense["question"]
        if self._hubs is None or self._hubs[0] != index.generation:
            if index.kind == "flat":
                matrix, ids = index.flat()
                hubs = hub_scores(matrix, ids)
            else:
                hubs = {}  # beyond flat_limit the all-pairs product is too dear; no correction
            self._hubs = (index.generation, hubs)
            self._profiles = {}
        return self._hubs[1]

    def _slots(self, kind: str, lexical: LexicalIndex) -> tuple[Vectors, npt.NDArray[np.intp]]:
        """The kind's vectors and, per row, its FAQ's row in the lexical scores (cached per change)."""
        index = self._dense[kind]
        key = (index.generation, lexical.generation)
        cached = self._slot_cache.get(kind)
        if cached is None or cached[0] != key:
            matrix, ids = index.flat()
            slots = np.fromiter((lexical.row(faq_id) for faq_id in ids), dtype=np.intp, count=len(ids))
            cached = (key, matrix, slots)
            self._slot_cache[kind] = cached
        return cached[1], cached[2]

    def _score_exact(
        self, vector: Vectors, raw: npt.NDArray[np.float32], scale: float, lexical: LexicalIndex
    ) -> list[Candidate]:
        """Every FAQ scored exactly: one product per index, the best row per FAQ, fused in numpy."""
        cfg = self.config
        best = {}
        for kind in ("question", "answer"):
            matrix, slots = self._slots(kind, lexical)
            column = np.full(raw.shape[0], -np.inf, dtype=np.float32)
            if slots.size:
                np.maximum.at(column, slots, matrix @ vector)
                floor = float(column[np.isfinite(column)].min())
            else:
                floor = 0.0
            best[kind] = np.where(np.isfinite(column), column, floor)  # no rows of this kind: its floor
        fused = best["question"] + cfg.answer_weight * best["answer"] + cfg.lexical_weight * raw * scale
        live = np.fromiter((bool(faq_id) for faq_id in lexical.ids), dtype=bool, count=len(lexical.ids))
        fused[~live] = -np.inf
        depth = min(int(live.sum()), max(cfg.lexical_k, 4 * DECISION_DEPTH))
        top = (
            np.argpartition(-fused, depth - 1)[:depth]
            if depth < fused.shape[0]
            else np.arange(fused.shape[0])
        )
        ids = lexical.ids
        return [
            Candidate(
                ids[i], float(fused[i]), float(best["question"][i]), float(best["answer"][i]), float(raw[i])
            )
            for i in top
            if live[i]
        ]

    def _score_pooled(
        self, vector: Vectors, raw: npt.NDArray[np.float32], scale: float, lexical: LexicalIndex
    ) -> list[Candidate]:
        """Beyond ``flat_limit``: the approximate neighbours of each index and the lexical top, fused."""
        cfg = self.config
        hits = [hit for index in self._dense.values() for hit in index.search(vector, cfg.dense_k)]
        dense: dict[str, list[float]] = {}
        floor = {"question": 0.0, "answer": 0.0}
        for hit in hits:
            slot = 0 if hit.kind == "question" else 1
            best = dense.setdefault(hit.faq_id, [-1.0, -1.0])
            best[slot] = max(best[slot], hit.score)
            floor[hit.kind] = hit.score  # hits come best first: the last one is the floor
        lexical_ids = lexical.ids
        pool = set(dense) | {lexical_ids[i] for i in np.argsort(-raw)[: cfg.lexical_k] if raw[i] > 0}
        scored: list[Candidate] = []
        for faq_id in pool:
            q_score, a_score = dense.get(faq_id, [-1.0, -1.0])
            q_score = q_score if q_score >= 0 else floor["question"]
            a_score = a_score if a_score >= 0 else floor["answer"]
            bm25 = float(raw[lexical.row(faq_id)])
            score = q_score + cfg.answer_weight * a_score + cfg.lexical_weight * bm25 * scale
            scored.append(Candidate(faq_id, score, q_score, a_score, bm25))
        return scored

    def _collapse(self, scored: list[Candidate], k: int) -> list[Candidate]:
        out: list[Candidate] = []
        seen: dict[str, int] = {}
        for candidate in scored:
            key = self._entries[candidate.faq_id].key
            if key in seen:
                first = out[seen[key]]
                out[seen[key]] = first.with_duplicate(candidate.faq_id)
                continue
            if len(out) < k:
                seen[key] = len(out)
                out.append(candidate)
        return out

    def decide(self, query: str, candidates: list[Candidate] | None = None) -> Decision:
        """Answer with the top FAQ, ask which of a few was meant, or abstain.

        Pass ``candidates`` from an earlier :meth:`search` of the same query to skip searching again.
        """
        if candidates is None:
            candidates = self.search(query, k=DECISION_DEPTH)
        return self.config.decide(query, candidates)

    def record(self, faq_id: str) -> FaqRecord | None:
        entry = self._entries.get(faq_id)
        return entry.record if entry is not None else None
