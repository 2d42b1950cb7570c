"""Second-stage re-ranking: cross-validated figures, ablations, decision thresholds, latency.

    python -m bench.rerank [--data ../shared/data] [--sets kaohsiung,default] [--folds 5]
                           [--seeds 3] [--groups ...] [--answer-bonus 0.5] [--write-weights]

Two labelled sets of two kinds of knowledge base: ``kaohsiung`` (the city's raw 1,427 FAQs
and its dev queries, ../shared/data) and ``default`` (the curated base in knowledge/content,
with alternative questions, and its test queries in tests/data). The first stage runs once
per query (its top ``--depth`` candidates are cached under var/rerank/); the re-ranking
features (knowledge.rerank) are computed once; the linear re-ranker is fitted with k-fold
cross-validation over both sets together: queries are grouped by set and gold FAQs (all
phrasings of one question fall in one fold), folds are drawn with fixed seeds, and every
figure is measured on held-out folds only (mean over seeds), per set.

Decision figures are nested: inside each outer fold the thresholds are tuned
(knowledge.calibrate.tune) on re-ranked Kaohsiung training queries that were themselves
held out of an inner fit, then applied to the held-out queries of both sets. The
thresholds printed for shipping are tuned on every Kaohsiung query's held-out re-ranked
list. ``--write-weights`` fits on every in-scope query of the sets and writes
knowledge/rerank/weights.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from knowledge.adapt import AdaptConfig, TorchTrainer, adapt
from knowledge.base_calibration import MIN_PAIRS, held_out_pairs
from knowledge.calibrate import Evidence, ReplayRetriever, tune
from knowledge.encoder import (
    Encoder,
    SentenceTransformerEncoder,
    default_model_dir,
    load_encoder,
    materialise,
)
from knowledge.evaluate import EvalCase, Report, evaluate, read_cases
from knowledge.faq import FaqRecord
from knowledge.importers import read_records
from knowledge.rerank import FEATURES, GROUPS, WEIGHTS_FILE, Matrix, Reranker, RerankWeights, fit
from knowledge.retriever import Candidate, Retriever, RetrieverConfig
from knowledge.vector_cache import VectorCache

REPO = Path(__file__).resolve().parents[1]
DECISION_DEPTH = 10
OOS4 = ("chitchat", "other_domain", "gibberish", "too_vague")
THRESHOLD_SET = "kaohsiung"  # the decision thresholds are tuned on this set's queries
MAX_BUTTONS = 5  # "did you mean" offers 2 to this many, by closeness (clarify_span)
SPANS = (1.0, 2.0, 3.0, 4.0, 6.0, math.inf)  # clarify_span values tuned among
# the feature groups of the shipped weights (docs/knowledge-base.md: field_bm25, qualifier and hub
# gained nothing under CV, so they are computed for measurement only)
SHIPPED_GROUPS = ("first_stage", "shape", "local", "qtype", "sentence", "agency")


def _names(groups: Sequence[str]) -> tuple[str, ...]:
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise SystemExit(f"unknown feature groups: {sorted(unknown)}; known: {', '.join(GROUPS)}")
    return tuple(name for group in GROUPS if group in groups for name in GROUPS[group])


def _gold(case: EvalCase) -> set[str]:
    gold = case.get("gold")
    return set() if gold is None else ({gold} if isinstance(gold, str) else set(gold))


@dataclass
class _Set:
    name: str
    retriever: Retriever
    cases: list[EvalCase]
    lists: list[list[Candidate]]
    records: list[FaqRecord]
    cache: Path


def _load_set(
    name: str,
    records: list[FaqRecord],
    cases: list[EvalCase],
    encoder: Encoder,
    cache: Path,
    depth: int,
    variant: str = "",
) -> _Set:
    retriever = Retriever(
        encoder, replace(RetrieverConfig.first_stage_defaults(), calibrate=False), cache_root=cache
    )
    retriever.build(records)
    n = len(FEATURES)  # a reranker naming every feature, so that every feature is computed
    retriever.reranker = Reranker(RerankWeights(FEATURES, (0.0,) * n, (0.0,) * n, (1.0,) * n))
    path = REPO / "var" / "rerank" / f"first_stage-{name}{variant}.json"
    key = f"{encoder.name}|{len(retriever)}|{depth}|{len(cases)}|matched"
    if path.is_file() and json.loads(path.read_text(encoding="utf-8"))["key"] == key:
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
        lists = [
            [Candidate(c[0], c[2], c[3], c[4], c[5], tuple(c[1]), matched=c[6]) for c in row] for row in rows
        ]
    else:
        lists = [retriever.first_stage(case["query"], depth) for case in cases]
        flat = [
            [
                [
                    c.faq_id,
                    list(c.duplicates),
                    c.score,
                    c.dense_question,
                    c.dense_answer,
                    c.lexical,
                    c.matched,
                ]
                for c in row
            ]
            for row in lists
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": key, "rows": flat}, ensure_ascii=False), encoding="utf-8")
    return _Set(name, retriever, cases, lists, records, cache)


def group_folds(keys: Sequence[tuple[str, str]], folds: int, seed: int) -> list[int]:
    """A fold for each item; items with the same key share one, keys are dealt round-robin after a seeded shuffle."""
    groups = sorted(set(keys))
    random.Random(seed).shuffle(groups)
    fold_of = {g: n % folds for n, g in enumerate(groups)}
    return [fold_of[k] for k in keys]


def _rank(candidates: Sequence[Candidate], gold: set[str]) -> int | None:
    return next((i for i, c in enumerate(candidates[:DECISION_DEPTH], 1) if gold & set(c.ids)), None)


def _ranking(lists: Sequence[Sequence[Candidate]], golds: Sequence[set[str]]) -> tuple[float, float, float]:
    ranks = [_rank(cands, g) for cands, g in zip(lists, golds, strict=True)]
    n = len(ranks)
    return (
        sum(r == 1 for r in ranks) / n,
        sum(r is not None and r <= 3 for r in ranks) / n,
        sum(1.0 / r for r in ranks if r is not None) / n,
    )


def _reorder(candidates: list[Candidate], scores: np.ndarray) -> list[Candidate]:
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    return [replace(candidates[i], rerank=float(scores[i])) for i in order]


class _Data:
    """Every query of every set, with its cached candidates and feature rows."""

    def __init__(self, sets: list[_Set]) -> None:
        self.encoder = sets[0].retriever.encoder.name
        self.sets = [s.name for s in sets]
        self.by_name = {s.name: s for s in sets}
        self.tags = [s.name for s in sets for _ in s.cases]
        self.cases = [c for s in sets for c in s.cases]
        self.lists = [cands for s in sets for cands in s.lists]
        self.rows: list[Matrix] = [
            s.retriever.rerank_features(c["query"], cands)
            for s in sets
            for c, cands in zip(s.cases, s.lists, strict=True)
        ]
        self.golds = [_gold(c) for c in self.cases]
        self.right = [
            np.array([bool(g & set(c.ids)) for c in cands])
            for cands, g in zip(self.lists, self.golds, strict=True)
        ]

    def indices(self, tag: str | None = None, *, in_scope: bool | None = None) -> list[int]:
        return [
            i
            for i in range(len(self.cases))
            if (tag is None or self.tags[i] == tag) and (in_scope is None or bool(self.golds[i]) == in_scope)
        ]

    def folds(self, folds: int, seed: int, idx: Sequence[int] | None = None) -> dict[int, int]:
        """Fold of each case; the cases of one set with the same gold (or out-of-scope text) share one."""
        idx = list(range(len(self.cases)) if idx is None else idx)
        keys = [
            (self.tags[i], str(sorted(self.golds[i])) if self.golds[i] else self.cases[i]["query"])
            for i in idx
        ]
        return dict(zip(idx, group_folds(keys, folds, seed), strict=True))

    def fit(self, idx: Sequence[int], names: Sequence[str], l2: float) -> Reranker:
        use = [i for i in idx if self.golds[i]]
        return Reranker(fit([self.rows[i] for i in use], [self.right[i] for i in use], names, l2=l2))

    def reranked(self, model: Reranker | None, i: int) -> list[Candidate]:
        if model is None:
            return self.lists[i]
        return _reorder(self.lists[i], model.scores(self.rows[i]))

    def held_out(
        self, names: Sequence[str] | None, folds: int, seed: int, l2: float, idx: Sequence[int] | None = None
    ) -> dict[int, list[Candidate]]:
        """Each case of ``idx`` re-ranked by a model fitted on the other folds of ``idx``."""
        fold = self.folds(folds, seed, idx)
        out: dict[int, list[Candidate]] = {}
        for f in range(folds):
            model = self.fit([i for i, g in fold.items() if g != f], names, l2) if names is not None else None
            out.update({i: self.reranked(model, i) for i, g in fold.items() if g == f})
        return out


def _cv_ranking(
    data: _Data, names: Sequence[str] | None, folds: int, seeds: int, l2: float
) -> dict[str, tuple[float, float, float]]:
    """Held-out top-1, top-3 and MRR@10 per set (mean over seeds)."""
    per_seed = [data.held_out(names, folds, seed, l2) for seed in range(seeds)]
    out = {}
    for tag in data.sets:
        idx = data.indices(tag, in_scope=True)
        results = [_ranking([lists[i] for i in idx], [data.golds[i] for i in idx]) for lists in per_seed]
        out[tag] = (
            statistics.mean(r[0] for r in results),
            statistics.mean(r[1] for r in results),
            statistics.mean(r[2] for r in results),
        )
    return out


def _in_sample_ranking(
    data: _Data, names: Sequence[str] | None, l2: float
) -> dict[str, tuple[float, float, float]]:
    """Top-1, top-3 and MRR@10 per set with the model fitted on every in-scope query (optimistic)."""
    model = data.fit(data.indices(in_scope=True), names, l2) if names is not None else None
    out = {}
    for tag in data.sets:
        idx = data.indices(tag, in_scope=True)
        out[tag] = _ranking([data.reranked(model, i) for i in idx], [data.golds[i] for i in idx])
    return out


_IN_KEYS = ("top1", "top3", "answered_correct", "clarified_correct", "answered_wrong", "abstained")


def _merge(reports: list[Report]) -> dict[str, float]:
    """Figures of several held-out folds' reports, weighted by their sizes."""
    n_in = sum(r.n_in_scope for r in reports)
    out = {k: sum(getattr(r, k) * r.n_in_scope for r in reports) / n_in for k in _IN_KEYS}
    n_oos = sum(r.n_oos for r in reports)
    out["oos_abstained"] = sum(r.oos_abstained * r.n_oos for r in reports) / n_oos if n_oos else 0.0
    oos4 = [m for r in reports for kind, m in r.by_kind.items() if kind in OOS4]
    n4 = sum(m.n_oos for m in oos4)
    out["oos4_abstained"] = sum(m.oos_abstained * m.n_oos for m in oos4) / n4 if n4 else 0.0
    return out


def _calibrated(s: _Set, config: RetrieverConfig, model: Reranker | None) -> RetrieverConfig:
    """``config`` calibrated on the set's own alternative questions (knowledge.base_calibration), as a
    build of that base would: with the fold's second stage, never reading the set's queries."""
    if len(held_out_pairs(s.records)) < MIN_PAIRS:
        return config  # a base without alternative questions keeps the given thresholds
    retriever = Retriever(
        s.retriever.encoder, replace(config, calibrate=True), cache_root=s.cache, reranker=model
    )
    retriever.build(s.records)
    return retriever.config if retriever.calibration is not None else config


def _cv_decisions(
    data: _Data,
    names: Sequence[str] | None,
    folds: int,
    seeds: int,
    l2: float,
    answer_bonus: float,
    *,
    per_base: bool = False,
) -> dict[str, dict[str, float]]:
    """Nested: outer folds score; thresholds are tuned on inner-held-out re-ranked Kaohsiung lists
    (with ``per_base``, then calibrated on each base's own alternative questions, if it has them)."""
    per_tag: dict[str, list[dict[str, float]]] = {tag: [] for tag in data.sets}
    base = replace(
        RetrieverConfig.reranked_defaults() if names is not None else RetrieverConfig.first_stage_defaults(),
        clarify_candidates=MAX_BUTTONS,
    )
    for seed in range(seeds):
        fold = data.folds(folds, seed)
        reports: dict[str, list[Report]] = {tag: [] for tag in data.sets}
        buttons: dict[str, list[float]] = {tag: [] for tag in data.sets}
        for f in range(folds):
            train = [i for i, g in fold.items() if g != f]
            model = data.fit(train, names, l2) if names is not None else None
            inner = data.held_out(names, folds, seed + 100, l2, train)
            tuning = [i for i in train if data.tags[i] == THRESHOLD_SET]
            config = tune(
                [Evidence(data.cases[i], tuple(inner[i][:DECISION_DEPTH])) for i in tuning],
                base,
                answer_bonus=answer_bonus,
                spans=SPANS,
            )
            for tag in data.sets:
                test = [i for i, g in fold.items() if g == f and data.tags[i] == tag]
                evidence = [
                    Evidence(data.cases[i], tuple(data.reranked(model, i)[:DECISION_DEPTH])) for i in test
                ]
                used = _calibrated(data.by_name[tag], config, model) if per_base else config
                reports[tag].append(evaluate(ReplayRetriever(evidence, used), [data.cases[i] for i in test]))
                decided = [used.decide(e.case["query"], e.candidates) for e in evidence if e.case.get("gold")]
                offers = [len(d.candidates) for d in decided if d.kind == "clarify"]
                buttons[tag].extend(offers)
        for tag in data.sets:
            merged = _merge(reports[tag])
            merged["answered_or_clarified"] = merged["answered_correct"] + merged["clarified_correct"]
            merged["buttons_per_clarify"] = statistics.mean(buttons[tag]) if buttons[tag] else 0.0
            per_tag[tag].append(merged)
    return {tag: {k: statistics.mean(r[k] for r in rows) for k in rows[0]} for tag, rows in per_tag.items()}


def _latency(retriever: Retriever, cases: list[EvalCase]) -> str:
    """Per-query search + decide time with the second stage off and on, interleaved (one run, same load)."""
    off, on = RetrieverConfig.first_stage_defaults(), RetrieverConfig.reranked_defaults()
    times: dict[bool, list[float]] = {False: [], True: []}
    for case in cases:
        for config in (off, on):
            retriever.config = config
            started = time.perf_counter()
            retriever.decide(case["query"], retriever.search(case["query"], k=DECISION_DEPTH))
            times[config.rerank].append((time.perf_counter() - started) * 1000.0)
    parts = []
    for flag, name in ((False, "first stage"), (True, "re-ranked")):
        values = np.array(times[flag])
        parts.append(
            f"{name}: p50 {np.percentile(values, 50):.1f} ms, p95 {np.percentile(values, 95):.1f} ms"
        )
    return "; ".join(parts)


def _sets(args: argparse.Namespace, encoder: Encoder) -> list[_Set]:
    wanted = [s.strip() for s in args.sets.split(",") if s.strip()]
    out = []
    for name in wanted:
        if name == "kaohsiung":
            records = [p.record for p in read_records(args.data / "kaohsiung_faq.jsonl")]
            cases = read_cases(args.data / "eval" / "kaohsiung_dev_queries.jsonl")
        elif name == "default":
            records = [p.record for p in read_records(REPO / "knowledge" / "content")]
            cases = [c for f in sorted((REPO / "tests" / "data").glob("*.jsonl")) for c in read_cases(f)]
        else:
            raise SystemExit(f"unknown set {name!r}: kaohsiung or default")
        out.append(_load_set(name, records, cases, encoder, args.cache, args.depth))
    if THRESHOLD_SET not in wanted:
        raise SystemExit(f"--sets must include {THRESHOLD_SET} (the decision thresholds are tuned on it)")
    return out


def _describe(sets: list[_Set], data: _Data) -> None:
    for s in sets:
        idx = data.indices(s.name, in_scope=True)
        reach = sum(bool(data.right[i].any()) for i in idx) / len(idx)
        print(
            f"  {s.name}: {len(s.retriever)} FAQs, {len(idx)} in-scope + {len(s.cases) - len(idx)} out-of-scope"
            f" queries; right FAQ among the candidates for {reach:.3f}"
        )


def _adapted_sets(args: argparse.Namespace, sets: list[_Set]) -> list[_Set]:
    """Each set again with the encoder adapted to its own knowledge base (knowledge.adapt; trained
    now unless cached under ``--models``), quantised as the base encoder."""
    config = AdaptConfig(epochs=args.adapt_epochs, time_budget_s=args.adapt_budget)
    base_folder = materialise(default_model_dir(args.models))
    out = []
    for s in sets:
        base = s.retriever.encoder
        load = os.getloadavg()
        result = adapt(
            s.records,
            base_folder,
            base,
            args.models,
            TorchTrainer(),
            config,
            vectors=VectorCache(base, s.cache),
        )
        stats = json.loads((result.folder / "adapted.json").read_text(encoding="utf-8"))["stats"]
        print(
            f"adapted encoder for {s.name}: {result.name} ({'cached' if result.cached else 'trained now'};"
            f" {stats['examples']} examples, {stats['steps']}/{stats['planned_steps']} steps,"
            f" training {stats['seconds']:.0f} s + mining {stats['mining_seconds']:.0f} s,"
            f" load average at its start {load[0]:.1f}; loss by tenths {stats['losses']})"
        )
        encoder = SentenceTransformerEncoder(str(result.folder), name=result.name, quantize=args.quantize)
        out.append(_load_set(s.name, s.records, s.cases, encoder, s.cache, args.depth, variant="-adapted"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--sets", default="kaohsiung,default", help="labelled sets to fit and score on")
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "cache" / "bench")
    parser.add_argument("--encoder", default="e5-small-offline")
    parser.add_argument("--quantize", choices=["none", "int8"], default="int8")
    parser.add_argument("--models", type=Path, default=REPO / "var" / "models")
    parser.add_argument("--depth", type=int, default=20, help="first-stage candidates to re-rank")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="fold draws to average over")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the fit (standardised features)")
    parser.add_argument(
        "--groups",
        default=",".join(SHIPPED_GROUPS),
        help="feature groups of the model (comma-separated, from knowledge.rerank.GROUPS)",
    )
    parser.add_argument("--answer-bonus", type=float, default=0.5, help="as knowledge.calibrate.tune")
    parser.add_argument("--no-decisions", action="store_true", help="skip the nested decision figures")
    parser.add_argument(
        "--adapted",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the encoder adapted to each base (knowledge.adapt; trained unless cached)",
    )
    parser.add_argument("--adapt-epochs", type=int, default=AdaptConfig.epochs)
    parser.add_argument(
        "--adapt-budget", type=float, default=AdaptConfig.time_budget_s, help="training seconds"
    )
    parser.add_argument(
        "--no-ablations", action="store_true", help="rank only with the first stage and the chosen groups"
    )
    parser.add_argument(
        "--write-weights", action="store_true", help=f"fit on every query, write {WEIGHTS_FILE.name}"
    )
    args = parser.parse_args()

    encoder = load_encoder(args.encoder, args.models, quantize=args.quantize)
    started = time.perf_counter()
    sets = _sets(args, encoder)
    data = _Data(sets)
    print(
        f"encoder {encoder.name}; first stage top {args.depth} and features in {time.perf_counter() - started:.0f}s"
    )
    _describe(sets, data)
    adapted: _Data | None = None
    if args.adapted:
        adapted_sets = _adapted_sets(args, sets)
        adapted = _Data(adapted_sets)
        _describe(adapted_sets, adapted)

    chosen = [g.strip() for g in args.groups.split(",") if g.strip()]
    selected = _names(chosen)
    cv = f"{args.folds}-fold CV grouped by set and gold FAQ, mean of {args.seeds} seeds, held-out folds"
    print(f"\nranking ({cv}); fitted on {' + '.join(data.sets)} together")
    variants: list[tuple[str, Sequence[str] | None]] = [
        ("first stage alone", None),
        (f"re-ranked ({len(selected)} weights)", selected),
    ]
    if not args.no_ablations:
        variants += [(f"  without {g}", _names([c for c in chosen if c != g])) for g in chosen]
        variants += [(f"  with {g} added", _names([*chosen, g])) for g in GROUPS if g not in chosen]
        variants.append(("  first_stage features only (re-weighted)", _names(["first_stage"])))
        variants += [
            (f"  first_stage + {g} only", _names(["first_stage", g])) for g in GROUPS if g != "first_stage"
        ]
    encoders = [("base encoder", data)] + ([("adapted encoder", adapted)] if adapted is not None else [])
    for label, which in encoders:
        print(
            f"\n{label} ({which.encoder}): held-out folds, and in-sample (fitted on every query: optimistic)"
        )
        print(
            f"{'':<46}"
            + "".join(
                f"{tag + ' top1':>16}{'top3':>7}{'mrr10':>7}{'in-sample top1':>16}{'top3':>7}"
                for tag in which.sets
            )
        )
        for name, names in variants:
            out_of_fold = _cv_ranking(which, names, args.folds, args.seeds, args.l2)
            inside = _in_sample_ranking(which, names, args.l2)
            print(
                f"{name:<46}"
                + "".join(
                    f"{out_of_fold[t][0]:>16.3f}{out_of_fold[t][1]:>7.3f}{out_of_fold[t][2]:>7.3f}{inside[t][0]:>16.3f}{inside[t][1]:>7.3f}"
                    for t in which.sets
                )
            )
    everything = data.indices(in_scope=True)
    full = data.fit(everything, selected, args.l2)

    if not args.no_decisions:
        print(
            f"\ndecisions (nested {cv}; thresholds tuned by knowledge.calibrate.tune, answer bonus"
            f" {args.answer_bonus}, 2-{MAX_BUTTONS} buttons by clarify_span, on {THRESHOLD_SET} training"
            " queries inside each fold; 'per base': then calibrated on each base's own alternative"
            " questions, knowledge.base_calibration; 'adapted': the adapted encoder's first stage, the"
            " second stage refitted and the thresholds tuned on it in the same folds)"
        )
        runs: list[tuple[str, _Data, Sequence[str] | None, bool]] = [
            ("first stage alone", data, None, False),
            ("re-ranked", data, selected, False),
            ("first stage, per base", data, None, True),
            ("re-ranked, per base", data, selected, True),
        ]
        if adapted is not None:
            runs += [
                ("adapted, first stage alone", adapted, None, False),
                ("adapted, re-ranked", adapted, selected, False),
            ]
        for name, which, names, per_base in runs:
            decided = _cv_decisions(
                which, names, args.folds, args.seeds, args.l2, args.answer_bonus, per_base=per_base
            )
            for tag, shares in decided.items():
                print(f"  {name}, {tag}: " + "  ".join(f"{k} {v:.3f}" for k, v in shares.items()))

    tuning = data.indices(THRESHOLD_SET)
    held = data.held_out(selected, args.folds, 0, args.l2)
    for title, lists, base in (
        ("the shipped weights", held, RetrieverConfig.reranked_defaults()),
        ("the first stage alone", {i: data.lists[i] for i in tuning}, RetrieverConfig.first_stage_defaults()),
    ):
        config = tune(
            [Evidence(data.cases[i], tuple(lists[i][:DECISION_DEPTH])) for i in tuning],
            replace(base, clarify_candidates=MAX_BUTTONS),
            answer_bonus=args.answer_bonus,
            spans=SPANS,
        )
        print(
            f"\ndecision thresholds for {title} (knowledge.calibrate.tune on every {THRESHOLD_SET}"
            f" query's held-out list, answer bonus {args.answer_bonus}):"
        )
        for name in (
            "gap_weight",
            "lexical_evidence_weight",
            "abstain_below",
            "margin_slope",
            "confidence_bias",
        ):
            print(f"  {name} = {getattr(config, name):.4g}")
        print(f"  answer_confidence = {config.answer_confidence}")
        print(f"  clarify_candidates = {config.clarify_candidates}, clarify_span = {config.clarify_span}")

    print(f"\nweights fitted on every in-scope query of {' + '.join(data.sets)} (standardised features):")
    ranked = sorted(zip(full.weights.features, full.weights.coef, strict=True), key=lambda x: -abs(x[1]))
    for feature, coef in ranked:
        print(f"  {feature:<18}{coef:+.3f}")
    if args.write_weights:
        weights = replace(
            full.weights,
            fitted=f"python -m bench.rerank --write-weights --sets {args.sets} --groups {','.join(chosen)}"
            f" --l2 {args.l2} --depth {args.depth}: {len(everything)} in-scope queries, {encoder.name}",
        )
        WEIGHTS_FILE.write_text(weights.to_json() + "\n", encoding="utf-8")
        print(f"wrote {WEIGHTS_FILE.relative_to(REPO)}")
    for s in sets:
        if s.name == THRESHOLD_SET:
            s.retriever.reranker = full  # latency with the weights fitted here
            print(f"\nlatency per query on {s.name}, search + decide: " + _latency(s.retriever, s.cases))


if __name__ == "__main__":
    main()
