"""Importers: every file format becomes the same stream of ``Parsed`` / ``Rejected`` rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from knowledge.importers._base import (
    RAW_CELL,
    ROW_FIELDS,
    ImportError_,
    Parsed,
    Reader,
    Rejected,
    Row,
    row_cells,
    to_record,
)
from knowledge.importers.jsonl import read_jsonl
from knowledge.importers.tabular import read_csv, read_xlsx
from knowledge.importers.taipei_xml import read_taipei_xml

__all__ = [
    "FORMATS",
    "RAW_CELL",
    "ROW_FIELDS",
    "ImportError_",
    "Parsed",
    "Rejected",
    "Row",
    "detect_format",
    "read",
    "read_records",
    "row_cells",
    "to_record",
]

FORMATS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "csv": read_csv,
    "xlsx": read_xlsx,
    "taipei-xml": read_taipei_xml,
}
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx", ".xml": "taipei-xml"}


def detect_format(path: Path) -> str:
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ImportError_(
            f"cannot tell the format of {path.name} from its name; pass --format ({', '.join(FORMATS)})"
        )
    return fmt


def read(path: Path, fmt: str | None = None) -> Iterator[Row]:
    """Every row of one file, or of every importable file in a folder, in order."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
        for file in files:
            for row in read(file, fmt):
                yield replace(row, where=f"{file.name} {row.where}")
        return
    if not path.is_file():
        raise ImportError_(f"no such file: {path}")
    fmt = fmt or detect_format(path)
    reader = FORMATS.get(fmt)
    if reader is None:
        raise ImportError_(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    yield from reader(path)


def read_records(path: Path, fmt: str | None = None) -> list[Parsed]:
    """Only the good rows (for evaluation and tests); rejections are dropped."""
    return [row for row in read(path, fmt) if isinstance(row, Parsed)]
