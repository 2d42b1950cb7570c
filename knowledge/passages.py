"""Split long FAQ answers into sentence-aligned passages for the dense index."""

from __future__ import annotations

import re

__all__ = ["answer_passages"]

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")


def answer_passages(answer: str, max_chars: int = 150, max_passages: int = 8) -> list[str]:
    """Up to ``max_passages`` passages of at most ``max_chars`` characters, cut at sentence ends.

    Sentences are packed greedily; a sentence longer than ``max_chars`` is cut hard. The
    head of an answer carries most of its meaning, so a very long answer keeps only its
    first passages (this bounds the encoding cost of a build).
    """
    if max_chars < 1 or max_passages < 1:
        raise ValueError("max_chars and max_passages must be positive")
    passages: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(answer):
        sentence = sentence.strip()
        if not sentence:
            continue
        if current and len(current) + len(sentence) > max_chars:
            passages.append(current)
            current = ""
        current += sentence
        while len(current) > max_chars:
            passages.append(current[:max_chars])
            current = current[max_chars:]
    if current:
        passages.append(current)
    return passages[:max_passages]
