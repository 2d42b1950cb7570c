"""Near-duplicate questions: pairs of entries whose questions share most character bigrams.

Questions are compared as their ``question_key`` (folded, letters and digits only) by the
Dice coefficient of their character-bigram sets — robust to word order, particles and
small rewordings, and cheap. Candidate pairs come from an inverted index over the rarer
bigrams, so the finder does not compare every pair of a large knowledge base.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.normalize import question_key

__all__ = ["DuplicatePair", "bigram_set", "dice", "near_duplicates"]

COMMON_SHARE = 0.05  # bigrams in more than this share of questions do not propose pairs


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    first: str
    second: str
    similarity: float


def bigram_set(text: str) -> frozenset[str]:
    key = question_key(text)
    if len(key) < 2:
        return frozenset({key} if key else ())
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))


def near_duplicates(
    questions: Iterable[tuple[str, str]],
    *,
    threshold: float,
    skip: set[tuple[str, str]] | None = None,
    limit: int = 200,
) -> list[DuplicatePair]:
    """Pairs (ids in sorted order) of ``(id, question)`` whose similarity reaches ``threshold``."""
    grams = {faq_id: bigram_set(text) for faq_id, text in questions}
    postings: dict[str, list[str]] = defaultdict(list)
    for faq_id, items in grams.items():
        for gram in items:
            postings[gram].append(faq_id)
    common = max(20, int(len(grams) * COMMON_SHARE))
    pairs: set[tuple[str, str]] = set()
    for holders in postings.values():
        if len(holders) > common:
            continue
        for i, first in enumerate(holders):
            for second in holders[i + 1 :]:
                pairs.add((first, second) if first < second else (second, first))
    skip = skip or set()
    found = []
    for first, second in pairs:
        if (first, second) in skip:
            continue
        similarity = dice(grams[first], grams[second])
        if similarity >= threshold:
            found.append(DuplicatePair(first, second, similarity))
    found.sort(key=lambda p: (-p.similarity, p.first, p.second))
    return found[:limit]
