"""Retrieval benchmark: the engine against the issue's three baselines on the Kaohsiung dev set.

    python -m bench.retrieval [--data ../shared/data] [--cache var/cache/bench] [--cold] [--ablations]
                              [--encoder e5-small-offline] [--quantize none|int8]

Prints ranking figures of the baselines and the engine, the engine's decision figures
(in-sample with the shipped defaults, and 2-fold cross-validated: thresholds tuned on
one half of the queries, scored on the other, over five random splits), build times
cold / warm, live-update time and per-query latency. The engine re-ranks with the shipped
second stage, whose weights were fitted on this same dev set, so its figures here are
in-sample; ``python -m bench.rerank`` gives held-out-fold ones.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from knowledge.calibrate import collect, cross_validate
from knowledge.encoder import load_encoder
from knowledge.evaluate import EvalCase, Report, evaluate, format_report, read_cases
from knowledge.faq import FaqRecord
from knowledge.importers import read_records
from knowledge.lexical import LexicalConfig, LexicalIndex
from knowledge.retriever import Retriever, RetrieverConfig
from knowledge.synonyms import parse_synonyms
from knowledge.vector_cache import VectorCache

REPO = Path(__file__).resolve().parents[1]


def _rank_row(name: str, rankings: list[list[str]], cases: list[EvalCase]) -> str:
    golds = [set(c["gold"] if isinstance(c["gold"], list) else [c["gold"]]) for c in cases]
    top1 = statistics.mean(r[0] in g for r, g in zip(rankings, golds, strict=True))
    top3 = statistics.mean(bool(g & set(r[:3])) for r, g in zip(rankings, golds, strict=True))
    mrr = statistics.mean(
        next((1 / i for i, x in enumerate(r[:10], 1) if x in g), 0.0)
        for r, g in zip(rankings, golds, strict=True)
    )
    return f"{name:<44}{top1:>7.3f}{top3:>7.3f}{mrr:>7.3f}"


def _baselines(records: list[FaqRecord], cases: list[EvalCase], cache: VectorCache) -> list[str]:
    ids = [r.id for r in records]
    bm25 = LexicalIndex(LexicalConfig(bigram_weight=0.0, answer_weight=0.0))
    bm25.set_many((r.id, [f"{r.question} {r.answer}"], "") for r in records)
    lexical = np.stack([bm25.scores(c["query"]) for c in cases])
    questions = cache.encode([r.question for r in records], "query")
    dense = cache.encode([c["query"] for c in cases], "query") @ questions.T
    ranks = [np.argsort(np.argsort(-m, axis=1), axis=1) for m in (lexical, dense)]
    rrf = np.sum([1.0 / (60 + r + 1) for r in ranks], axis=0)
    rows = []
    for name, matrix in (
        ("BM25 jieba q+a", lexical),
        ("e5-small query vs question", dense),
        ("RRF of the two", rrf),
    ):
        rankings = [[ids[i] for i in np.argsort(-row)[:10]] for row in matrix]
        rows.append(_rank_row(f"baseline: {name}", rankings, cases))
    return rows


def _engine_row(name: str, report: Report) -> str:
    return f"{name:<44}{report.top1:>7.3f}{report.top3:>7.3f}{report.mrr10:>7.3f}"


def _mean_report(reports: list[Report]) -> dict[str, float]:
    keys = (
        "top1",
        "top3",
        "answered_correct",
        "clarified_correct",
        "answered_wrong",
        "abstained",
        "oos_abstained",
    )
    out = {k: statistics.mean(getattr(r, k) for r in reports) for k in keys}
    out["oos_abstained_4_kinds"] = statistics.mean(
        sum(r.by_kind[k].oos_abstained * r.by_kind[k].n_oos for k in _OOS4 if k in r.by_kind)
        / max(1, sum(r.by_kind[k].n_oos for k in _OOS4 if k in r.by_kind))
        for r in reports
    )
    return out


_OOS4 = ("chitchat", "other_domain", "gibberish", "too_vague")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "cache" / "bench")
    parser.add_argument("--cold", action="store_true", help="empty the vector cache first (cold build)")
    parser.add_argument("--ablations", action="store_true", help="also score the engine without each part")
    parser.add_argument("--encoder", default="e5-small-offline", help="encoder spec (as knowledge.encoder)")
    parser.add_argument(
        "--quantize", choices=["none", "int8"], default="int8", help="as knowledge.quantize (default int8)"
    )
    parser.add_argument("--models", type=Path, default=REPO / "var" / "models", help="model cache folder")
    args = parser.parse_args()

    records = [p.record for p in read_records(args.data / "kaohsiung_faq.jsonl")]
    cases = read_cases(args.data / "eval" / "kaohsiung_dev_queries.jsonl")
    in_scope = [c for c in cases if c.get("gold")]
    if args.cold and args.cache.exists():
        shutil.rmtree(args.cache)
    encoder = load_encoder(args.encoder, args.models, quantize=args.quantize)
    print(f"encoder {encoder.name}")

    retriever = Retriever(encoder, cache_root=args.cache)
    cold = retriever.build(records)
    warm = Retriever(encoder, cache_root=args.cache).build(records)
    print(f"records {cold.records}  vectors {cold.vectors}")
    print(
        f"build: first {cold.seconds:.1f}s ({cold.encoded} texts encoded)  rebuild {warm.seconds:.1f}s ({warm.encoded} encoded)"
    )
    changed = records[0].model_copy(update={"answer": records[0].answer + "（本答案已更新）"})
    started = time.perf_counter()
    retriever.update(changed)
    retriever.search("測試")
    retriever.remove(records[1].id)
    retriever.search("測試")
    print(f"live update + remove + next search: {time.perf_counter() - started:.2f}s")
    retriever.update(records[0])
    retriever.update(records[1])

    print(f"\n{'ranking (in-scope, n=' + str(len(in_scope)) + ')':<44}{'top1':>7}{'top3':>7}{'mrr10':>7}")
    for row in _baselines(records, in_scope, VectorCache(encoder, args.cache)):
        print(row)
    report = evaluate(retriever, cases)
    print(_engine_row("engine (defaults)", report))
    if args.ablations:
        variants = {
            "  without the second stage (first stage alone)": RetrieverConfig.first_stage_defaults(),
            "  without answer passages": replace(retriever.config, answer_weight=0.0),
            "  without BM25": replace(retriever.config, lexical_weight=0.0),
            "  without dense (BM25 only)": replace(
                retriever.config, answer_weight=0.0, lexical_weight=1000.0
            ),
        }
        for name, config in variants.items():
            variant = Retriever(encoder, config, cache_root=args.cache)
            variant.build(records)
            print(_engine_row(name, evaluate(variant, in_scope)))
        plain = Retriever(encoder, cache_root=args.cache, synonyms=parse_synonyms([]))
        plain.build(records)
        print(_engine_row("  without synonyms", evaluate(plain, in_scope)))

    print("\nengine, shipped defaults, in-sample on the whole dev set:")
    print(format_report(report))
    evidence = collect(retriever, cases)
    folds = [
        rep for seed in range(5) for _, rep in cross_validate(evidence, RetrieverConfig(), folds=2, seed=seed)
    ]
    print(
        "\n2-fold cross-validation (tune decision thresholds on one half, score the other; 5 splits), held-out means:"
    )
    for key, value in _mean_report(folds).items():
        print(f"  {key:<24}{value:.3f}")


if __name__ == "__main__":
    main()
