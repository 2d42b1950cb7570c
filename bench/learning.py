"""Clustering benchmark for learning from failures: do phrasings of one need land in one cluster?

    python -m bench.learning [--data ../shared/data] [--distinct 10000] [--questions 30000]
    python -m bench.learning --engine [--data ../shared/data] [--folds 5]

Labelled sets: each FAQ's question, alternative questions and the evaluation queries whose
gold answer it is form one true group; out-of-scope queries are each a group of their own.
(1) the Kaohsiung dev set over the city FAQ (needs ../shared/data), (2) the project's own
knowledge base and its test queries. Reports pairwise precision / recall / F1 and the
number of clusters over a sweep of thresholds, then the time to cluster a synthetic busy
month (``--questions`` failed questions in ``--distinct`` phrasings).

``--engine`` asks the shipped engine (``bot.retrieval.make_retriever``: the real encoder, the
second stage) every labelled query of both sets, as the failure queue sees them: the FAQ it
offered become the query's hint (what the turn log keeps), the queries it did not
answer right are the failed ones. It reports (1) pairwise precision / recall / F1 of the
grouping of the queries (grouped by gold FAQ) over thresholds and hint weights, and the pair
chosen by cross-validation (folds by gold FAQ, the pair with the best mean F1 of both sets on
the training folds, figures on the held-out fold), and (2) on the clusters of the failed
queries, how often the FAQ the console preselects is the right one: the old rule (the bot's
first suggestions' vote, else its top candidate) and the new one (the engine's best for the
cluster's leading phrasing, only when its confidence reaches a threshold fitted the same way).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from bot.learning.clustering import ClusterConfig, Item, cluster
from bot.learning.features import Featuriser
from knowledge.faq import FaqRecord
from knowledge.importers import Parsed, read_records
from knowledge.normalize import question_key

REPO = Path(__file__).resolve().parents[1]
_FEATURISER = Featuriser()  # remembers each text's terms: the grid re-clusters the same texts
PRESELECT_PRECISION = 0.9  # a preselection staff can trust: right at least this often


def _groups_from(faqs: dict[str, list[str]], queries: list[dict[str, object]]) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    for faq_id, phrasings in faqs.items():
        for text in phrasings:
            texts.append(text)
            labels.append(faq_id)
    for n, query in enumerate(queries):
        gold = query.get("gold")
        label = str(gold[0]) if isinstance(gold, list) and gold else f"oos-{n}"
        texts.append(str(query["query"]))
        labels.append(label)
    return texts, labels


def kaohsiung(data: Path) -> tuple[list[str], list[str]]:
    queries = [json.loads(line) for line in (data / "eval" / "kaohsiung_dev_queries.jsonl").open()]
    wanted = {q["gold"][0] for q in queries if q.get("gold")}
    faqs: dict[str, list[str]] = {}
    for line in (data / "kaohsiung_faq.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row["id"] in wanted:
            faqs[row["id"]] = [row["question"]]
    return _groups_from(faqs, queries)


def own_content() -> tuple[list[str], list[str]]:
    records = [
        row.record
        for path in sorted((REPO / "knowledge" / "content").glob("*.jsonl"))
        for row in read_records(path)
        if isinstance(row, Parsed)
    ]
    queries = [
        json.loads(line) for path in sorted((REPO / "tests" / "data").glob("*.jsonl")) for line in path.open()
    ]
    return _groups_from({r.id: r.texts() for r in records}, queries)


def pairwise(groups: list[list[int]], labels: list[str]) -> tuple[float, float, float]:
    predicted = {i: g for g, members in enumerate(groups) for i in members}
    true_pairs = {(a, b) for a, b in combinations(range(len(labels)), 2) if labels[a] == labels[b]}
    by_cluster: dict[int, list[int]] = defaultdict(list)
    for i, g in predicted.items():
        by_cluster[g].append(i)
    found = {(a, b) for members in by_cluster.values() for a, b in combinations(sorted(members), 2)}
    hit = len(true_pairs & found)
    precision = hit / len(found) if found else 1.0
    recall = hit / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def run(name: str, texts: list[str], labels: list[str], thresholds: list[float]) -> None:
    featuriser = Featuriser()
    started = time.process_time()
    vectors = featuriser.vectors(texts)
    featurise = time.process_time() - started
    items = [
        Item(question_key(t) + f"#{i}", 1, v) for i, (t, v) in enumerate(zip(texts, vectors, strict=True))
    ]
    print(f"\n{name}: {len(texts)} texts, {len(set(labels))} true groups (features {featurise:.2f} s)")
    for threshold in thresholds:
        started = time.process_time()
        groups = cluster(items, ClusterConfig(threshold=threshold))
        took = time.process_time() - started
        p, r, f = pairwise(groups, labels)
        print(f"  t={threshold:.2f}: P={p:.3f} R={r:.3f} F1={f:.3f} clusters={len(groups)} ({took:.2f} s)")


_PREFIXES = ("", "請問", "想問一下", "不好意思，", "你好 ", "欸 ", "我想知道")
_SUFFIXES = ("", "？", "嗎", "謝謝", "！！", "呢", " 急", "…")


def scale(texts: list[str], distinct: int, questions: int) -> None:
    """Time featurising and clustering ``distinct`` phrasings asked ``questions`` times in all."""
    rng = random.Random(1999)
    phrasings: dict[str, str] = {}
    while len(phrasings) < distinct:
        text = (
            rng.choice(_PREFIXES) + rng.choice(texts) + rng.choice(_SUFFIXES) + str(rng.randrange(20) or "")
        )
        phrasings.setdefault(question_key(text), text)
    keys = sorted(phrasings)
    weights = Counter(rng.choice(keys) for _ in range(questions - distinct)) + Counter(keys)
    started = time.process_time()
    vectors = Featuriser().vectors([phrasings[k] for k in keys])
    featurise = time.process_time() - started
    items = [Item(k, weights[k], v) for k, v in zip(keys, vectors, strict=True)]
    started = time.process_time()
    groups = cluster(items, ClusterConfig())
    took = time.process_time() - started
    print(
        f"\nscale: {questions} failed questions, {distinct} distinct phrasings: "
        f"features {featurise:.2f} s, clustering {took:.2f} s, {len(groups)} clusters"
    )


@dataclass(frozen=True)
class Asked:
    """One labelled query as the engine saw it."""

    text: str
    label: str  # its gold FAQ, or "oos-…" for an out-of-scope message
    gold: frozenset[str]
    hint: frozenset[str]  # the FAQs the engine offered (at most 3; none when it abstained)
    first: str  # the FAQ it offered first ("" when it abstained): the old preselection's vote
    top: str  # its top candidate even when abstaining (what the console showed first)
    best: str  # the decision's best ("" when it abstained)
    confidence: float
    failed: bool  # not answered with a right FAQ: it would be in the queue


def _read_queries(paths: list[Path]) -> list[dict[str, object]]:
    return [json.loads(line) for path in paths for line in path.open(encoding="utf-8") if line.strip()]


def ask_engine(records: list[FaqRecord], queries: list[dict[str, object]]) -> tuple[list[Asked], list[str]]:
    """Every query through the shipped engine over ``records``; and the base's texts (background)."""
    from bot.retrieval import make_retriever
    from bot.settings import load_settings

    retriever = make_retriever(load_settings().knowledge)
    retriever.build(records)
    out: list[Asked] = []
    for n, query in enumerate(queries):
        text = str(query["query"])
        raw = query.get("gold")
        gold = frozenset(str(g) for g in (raw if isinstance(raw, list) else [raw] if raw else []))
        candidates = retriever.search(text, k=10)
        decision = retriever.decide(text, candidates)
        offered = [c.faq_id for c in decision.candidates]
        best = decision.best.faq_id if decision.kind != "abstain" and decision.best else ""
        answered_right = decision.kind == "answer" and best in gold
        out.append(
            Asked(
                text=text,
                label=min(gold) if gold else f"oos-{n}",
                gold=gold,
                hint=frozenset(offered[:3]),
                first=offered[0] if offered else "",
                top=candidates[0].faq_id if candidates else "",
                best=best,
                confidence=decision.confidence,
                failed=not answered_right,
            )
        )
    return out, [t for r in records for t in r.texts()]


def _engine_sets(data: Path) -> list[tuple[str, list[Asked], list[str]]]:
    sets = []
    eval_queries = data / "eval" / "kaohsiung_dev_queries.jsonl"
    if (data / "kaohsiung_faq.jsonl").is_file() and eval_queries.is_file():
        records = [
            row.record for row in read_records(data / "kaohsiung_faq.jsonl") if isinstance(row, Parsed)
        ]
        sets.append(("Kaohsiung dev queries", *ask_engine(records, _read_queries([eval_queries]))))
    own = [
        row.record
        for path in sorted((REPO / "knowledge" / "content").glob("*.jsonl"))
        for row in read_records(path)
        if isinstance(row, Parsed)
    ]
    queries = _read_queries(sorted((REPO / "tests" / "data").glob("content_queries_*.jsonl")))
    sets.append(("default base, test queries", *ask_engine(own, queries)))
    return sets


def _cluster_asked(
    asked: list[Asked], background: list[str], threshold: float, hint_weight: float
) -> list[list[int]]:
    vectors = _FEATURISER.vectors([a.text for a in asked], background)
    items = [
        Item(question_key(a.text) + f"#{i}", 1, v, a.hint)
        for i, (a, v) in enumerate(zip(asked, vectors, strict=True))
    ]
    return cluster(items, ClusterConfig(threshold=threshold, hint_weight=hint_weight))


def _folds(labels: list[str], folds: int) -> list[int]:
    order = sorted(set(labels), key=lambda label: hashlib.sha256(label.encode()).hexdigest())
    fold_of = {label: n % folds for n, label in enumerate(order)}
    return [fold_of[label] for label in labels]


def grouping(
    sets: list[tuple[str, list[Asked], list[str]]], folds: int, thresholds: list[float], weights: list[float]
) -> tuple[float, float]:
    """Print the grid and the cross-validated choice; return the pair chosen on everything."""
    grid = [(t, w) for w in weights for t in thresholds]
    print("\ngrouping the labelled queries (pairwise precision / recall / F1, clusters):")
    whole: dict[tuple[float, float], float] = {}
    for t, w in grid:
        row, f1s = "", []
        for name, asked, background in sets:
            groups = _cluster_asked(asked, background, t, w)
            p, r, f = pairwise(groups, [a.label for a in asked])
            row += f"  {name}: P={p:.3f} R={r:.3f} F1={f:.3f} n={len(groups)}"
            f1s.append(f)
        whole[(t, w)] = sum(f1s) / len(f1s)
        print(f"  t={t:.2f} w={w:.2f}{row}")
    held: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _, _ in sets}
    chosen: list[tuple[float, float]] = []
    fold_of = {name: _folds([a.label for a in asked], folds) for name, asked, _ in sets}
    for k in range(folds):
        scores: dict[tuple[float, float], float] = {}
        for t, w in grid:
            f1s = []
            for name, asked, background in sets:
                train = [a for a, f in zip(asked, fold_of[name], strict=True) if f != k]
                f1s.append(pairwise(_cluster_asked(train, background, t, w), [a.label for a in train])[2])
            scores[(t, w)] = sum(f1s) / len(f1s)
        best = max(grid, key=lambda tw: (scores[tw], -tw[1], tw[0]))
        chosen.append(best)
        for name, asked, background in sets:
            test = [a for a, f in zip(asked, fold_of[name], strict=True) if f == k]
            held[name].append(pairwise(_cluster_asked(test, background, *best), [a.label for a in test]))
    print(f"cross-validated ({folds} folds by gold FAQ; chosen per fold: {chosen}):")
    for name, figures in held.items():
        p, r, f = (sum(x[i] for x in figures) / len(figures) for i in range(3))
        print(f"  {name}: held-out P={p:.3f} R={r:.3f} F1={f:.3f}")
    return max(grid, key=lambda tw: (whole[tw], -tw[1], tw[0]))


def _majority_gold(members: list[Asked]) -> frozenset[str]:
    label, _ = Counter(a.label for a in members).most_common(1)[0]
    return next(a.gold for a in members if a.label == label)


def preselection(
    sets: list[tuple[str, list[Asked], list[str]]], threshold: float, hint_weight: float, folds: int
) -> None:
    """How often the preselected FAQ of a failed-question cluster is right, old rule and new."""
    print(f"\npreselection on the clusters of the failed queries (t={threshold:.2f}, w={hint_weight:.2f}):")
    rows: list[tuple[float, bool]] = []  # (confidence, best is right) of each cluster's leading phrasing
    for name, asked, background in sets:
        failed = [a for a in asked if a.failed]
        clusters = [
            [failed[i] for i in g] for g in _cluster_asked(failed, background, threshold, hint_weight)
        ]
        old_right = old_made = 0
        for members in clusters:
            gold = _majority_gold(members)
            lead = min(members, key=lambda a: question_key(a.text))
            votes = Counter(a.first for a in members if a.first)
            old = min(votes, key=lambda f: (-votes[f], f)) if votes else lead.top
            old_made += bool(old)
            old_right += bool(old) and old in gold
            rows.append((lead.confidence if lead.best else 0.0, bool(lead.best) and lead.best in gold))
        print(
            f"  {name}: {len(failed)} failed queries in {len(clusters)} clusters; old rule preselects"
            f" {old_made}, right {old_right} ({old_right / max(1, old_made):.3f})"
        )
    taus = sorted({round(c, 2) for c, _ in rows} | {0.0})
    print("  new rule over all clusters of both sets (confidence >= tau: preselected, right, precision):")
    for tau in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        made = [right for c, right in rows if c > 0 and c >= tau]
        print(
            f"    tau={tau:.1f}: {len(made)} of {len(rows)}, right {sum(made)} ({sum(made) / max(1, len(made)):.3f})"
        )
    fold_of = [n % folds for n in range(len(rows))]
    made_all = right_all = 0
    picked = []
    for k in range(folds):
        train = [r for r, f in zip(rows, fold_of, strict=True) if f != k]
        tau = next(
            (
                t
                for t in taus
                if (chosen := [ok for c, ok in train if c > 0 and c >= t])
                and sum(chosen) / len(chosen) >= PRESELECT_PRECISION
            ),
            math.inf,
        )
        picked.append(tau)
        test = [ok for (c, ok), f in zip(rows, fold_of, strict=True) if f == k and c > 0 and c >= tau]
        made_all += len(test)
        right_all += sum(test)
    print(
        f"  cross-validated ({folds} folds over clusters; tau = the least with training precision >="
        f" {PRESELECT_PRECISION}; chosen {picked}): held-out preselected {made_all} of {len(rows)},"
        f" right {right_all} ({right_all / max(1, made_all):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--engine", action="store_true", help="the engine's hints and preselection")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--hint-weights", type=float, nargs="*", default=[0.0, 0.1, 0.2, 0.3, 0.4])
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
    parser.add_argument("--distinct", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=30_000)
    args = parser.parse_args()
    if args.engine:
        engine_sets = _engine_sets(args.data)
        threshold, hint_weight = grouping(engine_sets, args.folds, args.thresholds, args.hint_weights)
        print(f"best on everything: t={threshold:.2f} w={hint_weight:.2f}")
        preselection(engine_sets, threshold, hint_weight, args.folds)
        default = ClusterConfig()
        if (threshold, hint_weight) != (default.threshold, default.hint_weight):
            preselection(engine_sets, default.threshold, default.hint_weight, args.folds)
        return
    sets = [("own knowledge base + test queries", *own_content())]
    if (args.data / "kaohsiung_faq.jsonl").is_file():
        sets.insert(0, ("Kaohsiung dev set", *kaohsiung(args.data)))
    for name, texts, labels in sets:
        run(name, texts, labels, args.thresholds)
    scale([t for _, texts, _ in sets for t in texts], args.distinct, args.questions)


if __name__ == "__main__":
    main()
