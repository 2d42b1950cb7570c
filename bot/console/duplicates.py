"""Near-duplicate questions: pairs of entries that ask for the same thing.

A question is compared by its content: its ``question_key`` (folded, letters and digits only)
without the words that only make it a question (如何、要怎麼、什麼、請問、嗎 …). Two questions
are a pair when their contents share most character bigrams (Dice coefficient at least the
threshold) *and* one content is the other's with at most a few characters added — a third of
the shorter, at least two (「社會體育團體赴外參加比賽」 and 「…赴外縣市參加比賽」). Questions that
differ in a word on both sides are never a pair, however much they share: 「印鑑證明要怎麼申請」
and 「身心障礙證明要怎麼申請」, 「房屋稅何時開徵」 and 「地價稅何時開徵」, the dozen questions of
one template. (Dice alone paired those: 25 of 214 pairs right on the Kaohsiung FAQ at 0.6;
with the content test, 21 of 22 — docs/benchmarks.md, ``python -m bench.duplicates``.)

Candidate pairs come from an inverted index over the rarer bigrams, so the finder does not
compare every pair of a large knowledge base.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.normalize import question_key

__all__ = ["DuplicatePair", "bigram_set", "content_key", "dice", "near_duplicates", "same_content"]

COMMON_SHARE = 0.05  # bigrams in more than this share of questions do not propose pairs
# Words that make a sentence a question without saying what about (longest first when matched).
QUESTION_WORDS = [
    "可不可以",
    "有沒有",
    "要怎麼",
    "請問",
    "怎麼",
    "如何",
    "怎樣",
    "什麼",
    "甚麼",
    "為何",
    "是否",
    "哪裡",
    "哪些",
    "那些",
    "多少",
    "可以",
    "能否",
    "可否",
    "嗎",
    "呢",
    "的",
    "之",
    "要",
    "在",
    "該",
    "應",
    "我",
    "想",
]
_QUESTION_WORDS = re.compile("|".join(sorted(QUESTION_WORDS, key=len, reverse=True)))
ADDED_SHARE = 1 / 3  # at most this share of the shorter content may be added (at least ADDED_MIN)
ADDED_MIN = 2


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    first: str
    second: str
    similarity: float


def content_key(text: str) -> str:
    """The question's key without its question words: what it asks about."""
    return _QUESTION_WORDS.sub("", question_key(text))


def bigram_set(text: str) -> frozenset[str]:
    """The character bigrams of the question's content."""
    return _grams(content_key(text))


def _grams(key: str) -> frozenset[str]:
    if len(key) < 2:
        return frozenset({key} if key else ())
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))


def dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))


def same_content(first: str, second: str) -> bool:
    """Whether one content (``content_key``) is the other with at most a few characters added
    (none changed): 「大型垃圾要怎麼預約清運」 and 「大型垃圾如何預約清運」 are; 「房屋稅」 and 「地價稅」 are not."""
    matcher = difflib.SequenceMatcher(None, first, second, autojunk=False)
    only_first = only_second = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            only_first += i2 - i1
            only_second += j2 - j1
    if only_first and only_second:
        return False
    return only_first + only_second <= max(ADDED_MIN, ADDED_SHARE * min(len(first), len(second)))


def near_duplicates(
    questions: Iterable[tuple[str, str]],
    *,
    threshold: float,
    skip: set[tuple[str, str]] | None = None,
    limit: int = 200,
) -> list[DuplicatePair]:
    """Pairs (ids in sorted order) of ``(id, question)`` whose similarity reaches ``threshold``
    and whose contents differ only by a few added characters (``same_content``)."""
    contents = {faq_id: content_key(text) for faq_id, text in questions}
    grams = {faq_id: _grams(key) for faq_id, key in contents.items()}
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
        if similarity >= threshold and same_content(contents[first], contents[second]):
            found.append(DuplicatePair(first, second, similarity))
    found.sort(key=lambda p: (-p.similarity, p.first, p.second))
    return found[:limit]
