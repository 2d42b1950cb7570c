"""CSV and XLSX with a header row.

Columns carry the record's field names (``id, question, answer, alt_questions, agency,
category, keywords, source_url, sources, post_date, revise_date, status``) or their
Chinese names (編號, 問題, 答案, 相似問法, 機關, 類別, 關鍵字, 網址, 出處, 發布日期,
修訂日期, 狀態). Several alternative questions in one cell are separated by line breaks
or ``|``; keywords and sources by commas. Rows are numbered as a spreadsheet shows them
(the header is row 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from knowledge.importers._base import ImportError_, Rejected, Row, to_record

__all__ = ["read_csv", "read_xlsx", "HEADER_ALIASES"]

HEADER_ALIASES = {
    "編號": "id",
    "問題": "question",
    "答案": "answer",
    "相似問法": "alt_questions",
    "其他問法": "alt_questions",
    "機關": "agency",
    "類別": "category",
    "關鍵字": "keywords",
    "網址": "source_url",
    "出處": "sources",
    "發布日期": "post_date",
    "修訂日期": "revise_date",
    "狀態": "status",
    "alternative_questions": "alt_questions",
    "issue_kind": "category",
    "url": "source_url",
}
_REQUIRED = ("id", "question", "answer")


def _header(cells: Iterable[Any]) -> list[str]:
    names = [HEADER_ALIASES.get(str(c or "").strip(), str(c or "").strip().lower()) for c in cells]
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise ImportError_(f"header row lacks the column(s) {', '.join(missing)}; found {names}")
    return names


def _rows(header: list[str], body: Iterable[tuple[int, list[Any]]]) -> Iterator[Row]:
    for number, cells in body:
        values = [_cell(c) for c in cells]
        if not any(values):
            continue
        where = f"row {number}"
        if any("\udc80" <= ch <= "\udcff" for v in values for ch in v):
            readable = [v.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for v in values]
            yield Rejected(where, "not valid UTF-8", _cells(header, readable))
            continue
        if len(values) > len(header) and any(values[len(header) :]):
            message = f"{len(values)} cells but the header has {len(header)} columns"
            yield Rejected(where, message, _cells(header, values))
            continue
        data = {name: value for name, value in zip(header, values, strict=False) if name and value}
        yield to_record(where, data)


def _cells(header: list[str], values: list[str]) -> dict[str, str]:
    """Every cell of a rejected row under its column's name (a cell past the header: by number)."""
    names = [*header, *(f"column {n}" for n in range(len(header) + 1, len(values) + 1))]
    return {name: value for name, value in zip(names, values, strict=False) if name}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_csv(path: Path) -> Iterator[Row]:
    text = path.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise ImportError_("the file is empty (no header row)") from None
    except csv.Error as error:
        raise ImportError_(f"cannot read the header row: {error}") from None

    def body() -> Iterator[tuple[int, list[Any]]]:
        number = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportError_(f"row {number + 1}: {error}") from None
            number = reader.line_num
            yield number, cells

    yield from _rows(header, body())


def read_xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportError_(f"not a readable XLSX workbook: {error}") from None
    try:
        rows = workbook.active.iter_rows(values_only=True)
        try:
            header = _header(next(rows))
        except StopIteration:
            raise ImportError_("the sheet is empty (no header row)") from None
        yield from _rows(header, ((n, list(cells)) for n, cells in enumerate(rows, start=2)))
    finally:
        workbook.close()
