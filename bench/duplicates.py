"""The duplicate finder's precision on the Kaohsiung FAQ, against pairs labelled by hand.

    python -m bench.duplicates [--data ../shared/data] [--labels bench/duplicate_labels.tsv]

``bench/duplicate_labels.tsv`` holds every pair the finder proposed at its old setting
(Dice of the questions' character bigrams at 0.6), each labelled 1 (the same need: one
answer serves both) or 0 — FAQ ids only; the questions are read from the data. The old
setting and the finder as it ships (``bot.console.duplicates``, the console's default
threshold) are both run over all 1,427 questions: pairs found, how many of them are
labelled right, and every pair the finder found that is not labelled (its precision is
then a bound, not a measurement: label those first).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bot.console.duplicates import dice, near_duplicates
from bot.settings import ConsoleSettings
from knowledge.normalize import question_key

REPO = Path(__file__).resolve().parents[1]
OLD_THRESHOLD = 0.6

Pair = tuple[str, str]


def _old(questions: dict[str, str], threshold: float) -> list[Pair]:
    """The finder before: Dice of the whole key's bigrams, nothing else (same candidate index)."""
    grams = {
        faq_id: frozenset(key[i : i + 2] for i in range(len(key) - 1))
        for faq_id, key in ((f, question_key(q)) for f, q in questions.items())
    }
    postings: dict[str, list[str]] = defaultdict(list)
    for faq_id, items in grams.items():
        for gram in items:
            postings[gram].append(faq_id)
    common = max(20, int(len(grams) * 0.05))
    pairs = {
        (min(a, b), max(a, b))
        for holders in postings.values()
        if len(holders) <= common
        for i, a in enumerate(holders)
        for b in holders[i + 1 :]
    }
    return sorted(p for p in pairs if dice(grams[p[0]], grams[p[1]]) >= threshold)


def _new(questions: dict[str, str], threshold: float) -> list[Pair]:
    found = near_duplicates(questions.items(), threshold=threshold, limit=len(questions) ** 2)
    return sorted((p.first, p.second) for p in found)


def read_labels(path: Path) -> dict[Pair, bool]:
    labels: dict[Pair, bool] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("#", "first\t")):
            continue
        first, second, same = line.split("\t")
        labels[(min(first, second), max(first, second))] = same.strip() == "1"
    return labels


def score(name: str, pairs: list[Pair], labels: dict[Pair, bool], questions: dict[str, str]) -> None:
    labelled = [p for p in pairs if p in labels]
    right = sum(labels[p] for p in labelled)
    positives = sum(labels.values())
    precision = f"{right / len(labelled):.1%}" if labelled else "—"
    print(f"| {name} | {len(pairs)} | {len(labelled)} | {right} | {precision} | {right} of {positives} |")
    for pair in pairs:
        if pair not in labels:
            print(f"|   unlabelled: {pair[0]} {pair[1]} ({questions[pair[0]]} / {questions[pair[1]]}) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--labels", type=Path, default=REPO / "bench" / "duplicate_labels.tsv")
    args = parser.parse_args()
    questions = {}
    for line in (args.data / "kaohsiung_faq.jsonl").open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            questions[str(row["id"])] = str(row["question"])
    labels = read_labels(args.labels)
    threshold = ConsoleSettings().duplicate_threshold
    print(
        f"{len(questions):,} questions; {len(labels)} labelled pairs, {sum(labels.values())} the same need\n"
    )
    print("| finder | pairs found | labelled | right | precision | labelled same-need pairs found |")
    print("|---|---|---|---|---|---|")
    runs: list[tuple[str, Callable[[dict[str, str], float], list[Pair]], float]] = [
        (f"before: Dice of bigrams ≥ {OLD_THRESHOLD}", _old, OLD_THRESHOLD),
        ("before, threshold raised to 0.8", _old, 0.8),
        ("before, threshold raised to 0.9", _old, 0.9),
        (f"now: content Dice ≥ {threshold} and only added characters", _new, threshold),
    ]
    for name, finder, value in runs:
        score(name, finder(questions, value), labels, questions)
    default: dict[str, str] = {}
    for path in sorted((REPO / "knowledge" / "content").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            if line.strip():
                row = json.loads(line)
                default[str(row["id"])] = str(row["question"])
    print(f"\nThe default knowledge base ({len(default)} questions; not labelled, every pair listed):")
    for name, finder, value in (runs[0], runs[-1]):
        pairs = finder(default, value)
        shown = "; ".join(f"{default[a]} / {default[b]}" for a, b in pairs) or "none"
        print(f"- {name}: {len(pairs)} pairs — {shown}")


if __name__ == "__main__":
    main()
