"""Clustering benchmark for learning from failures: do phrasings of one need land in one cluster?

    python -m bench.learning [--data ../shared/data] [--distinct 10000] [--questions 30000]

Labelled sets: each FAQ's question, alternative questions and the evaluation queries whose
gold answer it is form one true group; out-of-scope queries are each a group of their own.
(1) the Kaohsiung dev set over the city FAQ (needs ../shared/data), (2) the project's own
knowledge base and its test queries. Reports pairwise precision / recall / F1 and the
number of clusters over a sweep of thresholds, then the time to cluster a synthetic busy
month (``--questions`` failed questions in ``--distinct`` phrasings).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from bot.learning.clustering import ClusterConfig, Item, cluster
from bot.learning.features import Featuriser
from knowledge.importers import Parsed, read_records
from knowledge.normalize import question_key

REPO = Path(__file__).resolve().parents[1]


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--thresholds", type=float, nargs="*", default=[0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
    parser.add_argument("--distinct", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=30_000)
    args = parser.parse_args()
    sets = [("own knowledge base + test queries", *own_content())]
    if (args.data / "kaohsiung_faq.jsonl").is_file():
        sets.insert(0, ("Kaohsiung dev set", *kaohsiung(args.data)))
    for name, texts, labels in sets:
        run(name, texts, labels, args.thresholds)
    scale([t for _, texts, _ in sets for t in texts], args.distinct, args.questions)


if __name__ == "__main__":
    main()
