"""Dense index at scale: 100,000 synthetic FAQ vectors (HNSW beyond ``flat_limit``) against exact search.

    python -m bench.scale [--vectors 100000] [--queries 1000]

Synthetic vectors (the issue allows synthetic text; random unit vectors clustered around
"topics" stand in for its encodings) go into :class:`knowledge.index.DenseIndex` the way a
build puts FAQ vectors in. Reports build time, resident memory growth, search latency
p50/p95/p99 over single queries and recall@10 against exact (flat) search, then the cost
of a live update (one FAQ replaced) and the next search.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from knowledge.index import DenseIndex


def _rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    rng = np.random.default_rng(1999)
    per_faq = 3  # a question, an alternative question and an answer passage per synthetic FAQ
    faqs = args.vectors // per_faq
    # Structured like real encodings: FAQs of one subject are near each other, so "nearest" means something.
    subjects = _unit(rng.standard_normal((500, args.dim)))
    topics = _unit(subjects[rng.integers(0, 500, faqs)] + 0.04 * rng.standard_normal((faqs, args.dim)))
    vectors = _unit(
        np.repeat(topics, per_faq, axis=0) + 0.02 * rng.standard_normal((faqs * per_faq, args.dim))
    )
    before = _rss_mb()
    index = DenseIndex(args.dim)
    started = time.perf_counter()
    for start in range(0, args.vectors, per_faq):
        rows = vectors[start : start + per_faq]
        index.set(f"F{start // per_faq}", ["question"] * len(rows), rows)
    asked = rng.integers(0, faqs, args.queries)
    queries = _unit(topics[asked] + 0.02 * rng.standard_normal((args.queries, args.dim)))
    index.search(queries[0], 10)  # compiles the index
    build = time.perf_counter() - started
    grown = _rss_mb() - before
    latencies, found = [], []
    for query in queries:
        t = time.perf_counter()
        hits = index.search(query, 10)
        latencies.append((time.perf_counter() - t) * 1000)
        found.append({h.faq_id for h in hits})
    exact = vectors @ queries.T
    hit1 = statistics.mean(f"F{a}" in f for a, f in zip(asked, found, strict=True))
    truth = [{f"F{i // per_faq}" for i in np.argsort(-exact[:, q])[:10]} for q in range(len(queries))]
    recall = statistics.mean(len(f & t) / len(t) for f, t in zip(found, truth, strict=True))
    q = np.percentile(latencies, [50, 95, 99])
    t = time.perf_counter()
    index.set("F0", ["question"], _unit(rng.standard_normal((1, args.dim))))
    index.search(queries[1], 10)
    update = (time.perf_counter() - t) * 1000
    print(f"vectors {len(index)}  index {index.kind}  dim {args.dim}")
    print(f"build {build:.1f} s  memory +{grown:.0f} MB (resident, index and its bookkeeping)")
    print(f"search ms over {len(queries)} single queries: p50 {q[0]:.2f}  p95 {q[1]:.2f}  p99 {q[2]:.2f}")
    print(f"recall@10 against exact search: {recall:.3f}  (asked FAQ among the 10 found: {hit1:.3f})")
    print(f"live update of one FAQ + next search: {update:.1f} ms")


if __name__ == "__main__":
    main()
