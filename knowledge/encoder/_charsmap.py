"""Compile a codepoint → text map into a SentencePiece ``precompiled_charsmap``.

The ``tokenizers`` library can only apply a SentencePiece-style normaliser from
this binary form (``normalizers.Precompiled``). The blob is a u32 byte length,
a darts-clone double-array trie over the UTF-8 keys, then the NUL-terminated
replacement strings; a key's value is the byte offset of its replacement.

darts-clone unit layout, as read by the ``spm_precompiled`` crate:

* node unit: ``label | has_leaf << 8 | offset << 10`` (offsets are below 2**21
  here, so the extension bit 9 is never needed); the node's children live at
  ``index ^ offset ^ label`` and its value unit at ``index ^ offset``;
* value unit: ``1 << 31 | value``.

Every node gets its own base, so a lookup of a missing label can never land on
another node's child with the same label.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["compile_charsmap"]

_MAX_OFFSET = 1 << 21
_LEAF = 1 << 31


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    value: int | None = None


def compile_charsmap(mapping: Mapping[int, str]) -> bytes:
    """The ``precompiled_charsmap`` bytes that replace each codepoint key by its text."""
    pool = bytearray()
    root = _Node()
    for codepoint in sorted(mapping):
        node = root
        for byte in chr(codepoint).encode("utf-8"):
            node = node.children.setdefault(byte, _Node())
        node.value = len(pool)
        pool += mapping[codepoint].encode("utf-8") + b"\0"
    units = _DoubleArray().build(root)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


class _DoubleArray:
    """Greedy placement: try each free slot for the first label, else a fresh 256-unit block."""

    def __init__(self) -> None:
        self.units: list[int] = [0]
        self.holes: list[int] = []
        self.bases: set[int] = set()

    def build(self, root: _Node) -> list[int]:
        pending: deque[tuple[int, _Node]] = deque([(0, root)])
        while pending:
            index, node = pending.popleft()
            slots = sorted(node.children)
            base = self._place(([0] if node.value is not None else []) + slots)
            offset = index ^ base
            if offset >= _MAX_OFFSET:
                raise ValueError("normalisation map too large for a compact double array")
            self.units[index] |= offset << 10 | (1 << 8 if node.value is not None else 0)
            if node.value is not None:
                self.units[base] = _LEAF | node.value
            for label in slots:
                self.units[base ^ label] = label
                pending.append((base ^ label, node.children[label]))
        return self.units

    def _place(self, wanted: list[int]) -> int:
        free = set(self.holes)
        for hole in self.holes:
            base = hole ^ wanted[0]
            if base > 0 and base not in self.bases and all(base ^ label in free for label in wanted):
                return self._claim(base, wanted)
        fresh = (len(self.units) | 0xFF) + 1
        self.holes.extend(range(len(self.units), fresh + 0x100))
        self.units.extend([0] * (fresh + 0x100 - len(self.units)))
        return self._claim(fresh, wanted)

    def _claim(self, base: int, wanted: list[int]) -> int:
        self.bases.add(base)
        taken = {base ^ label for label in wanted}
        self.holes = [hole for hole in self.holes if hole not in taken]
        return base
