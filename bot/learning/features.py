"""Chinese-aware features of a question, for telling which failed questions ask the same thing.

A question is normalised the way retrieval normalises it (:func:`knowledge.normalize.for_retrieval`:
NFKC full/half width, Simplified to Traditional, lower case, punctuation to spaces, the
staff's synonym list), then described by its jieba words and the character bigrams of
each run of content words (both taken from the Simplified copy jieba segments, so script
variants give the same terms). Words carry meaning; bigrams survive segmentation errors
and typos. Question scaffolding that says nothing about the topic (怎麼, 請問, 可以 ...)
is left out, and bigrams never bridge it. Terms are weighted by TF-IDF over the
questions being clustered.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from knowledge.lexical import bigrams, words
from knowledge.normalize import fold, for_retrieval
from knowledge.synonyms import default_synonyms

__all__ = ["Featuriser", "SparseVector", "STOPWORDS", "cosine"]

SparseVector = dict[str, float]

# Question scaffolding: frequent in every question, about no topic in particular (folded, Traditional).
_QUESTION_WORDS = (
    "請問",
    "怎麼",
    "怎樣",
    "如何",
    "什麼",
    "甚麼",
    "哪裡",
    "哪裏",
    "哪個",
    "哪些",
    "可以",
    "可不可以",
    "能不能",
    "是否",
    "有沒有",
    "要不要",
    "需要",
    "要",
    "我",
    "我們",
    "你",
    "你們",
    "您",
    "的",
    "了",
    "嗎",
    "呢",
    "吧",
    "啊",
    "喔",
    "是",
    "有",
    "在",
    "會",
    "和",
    "跟",
    "與",
    "及",
    "或",
    "還是",
    "就",
    "都",
    "也",
    "想",
    "想要",
    "請",
    "問",
    "一下",
    "一個",
    "這個",
    "那個",
    "這樣",
    "那樣",
    "多久",
    "幾點",
    "多少",
    "為什麼",
    "為何",
    "該",
    "應該",
    "去",
    "到",
    "辦法",
)
STOPWORDS = frozenset(fold(word) for word in _QUESTION_WORDS)


def cosine(a: SparseVector, b: SparseVector) -> float:
    """Dot product of two unit-length sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(weight * b.get(term, 0.0) for term, weight in a.items())


class Featuriser:
    """Turns questions into unit-length TF-IDF vectors over words and character bigrams.

    ``rewrite`` is the synonym rewrite applied after normalisation (the knowledge base's
    own list by default); ``word_weight`` and ``bigram_weight`` scale the two analysers.
    The terms of up to ``cache_size`` texts are remembered (segmenting is the slow part).
    """

    def __init__(
        self,
        rewrite: Callable[[str], str] | None = None,
        *,
        word_weight: float = 1.0,
        bigram_weight: float = 1.0,
        cache_size: int = 200_000,
    ) -> None:
        self.rewrite = rewrite
        self.word_weight = word_weight
        self.bigram_weight = bigram_weight
        self.cache_size = cache_size
        self._cache: dict[str, Counter[str]] = {}

    def normalise(self, text: str) -> str:
        rewrite = self.rewrite if self.rewrite is not None else default_synonyms().apply
        return for_retrieval(text, rewrite)

    def terms(self, text: str) -> Counter[str]:
        """Raw term counts: ``w:`` jieba words and ``b:`` bigrams, stop words left out."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        out: Counter[str] = Counter()
        for chunk in self.normalise(text).split():
            run: list[str] = []  # consecutive content words: bigrams never bridge a stop word
            for word in [*words(chunk), ""]:
                if word and fold(word) not in STOPWORDS:
                    out[f"w:{word}"] += 1
                    run.append(word)
                    continue
                for gram in bigrams("".join(run)):
                    out[f"b:{gram}"] += 1
                run = []
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[text] = out
        return out

    def vectors(self, texts: Sequence[str], background: Iterable[str] = ()) -> list[SparseVector]:
        """TF-IDF vectors of ``texts``; document frequencies come from ``texts`` and ``background``.

        ``background`` (e.g. the knowledge base's questions) steadies the weights when only a
        few questions are clustered.
        """
        counts = [self.terms(text) for text in texts]
        frequency: Counter[str] = Counter()
        documents = 0
        for bag in (*counts, *(self.terms(text) for text in background)):
            frequency.update(bag.keys())
            documents += 1
        out: list[SparseVector] = []
        for bag in counts:
            vector: SparseVector = {}
            for term, tf in bag.items():
                scale = self.word_weight if term.startswith("w:") else self.bigram_weight
                idf = math.log(1.0 + (documents + 1) / (frequency[term] + 1))
                vector[term] = scale * (1.0 + math.log(tf)) * idf
            norm = math.sqrt(sum(v * v for v in vector.values()))
            out.append({t: v / norm for t, v in vector.items()} if norm > 0 else {})
        return out
