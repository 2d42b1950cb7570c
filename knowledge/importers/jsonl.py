"""JSON Lines: one FAQ object per line.

The schema (docs/knowledge-base.md) is the record's own field names —
``id, question, answer, alt_questions, agency, category, keywords, source_url,
sources, post_date, revise_date, status`` — and also accepts the city harvest's
names: ``issue_kind`` for category, ``url`` for source_url, ``alternative_questions``
for alt_questions, and ``organ_no`` + ``seq_no`` for an id of ``KHH-{organ_no}-{seq_no}``.
Blank lines are skipped; a line that is not UTF-8, not JSON, or not an object is rejected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from knowledge.importers._base import RAW_CELL, Rejected, Row, to_record

__all__ = ["read_jsonl", "harvest_fields"]

_ALIASES = {"issue_kind": "category", "url": "source_url", "alternative_questions": "alt_questions"}


def harvest_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Map the accepted field names onto the record's own."""
    data = dict(obj)
    for alias, field in _ALIASES.items():
        if alias in data and field not in data:
            data[field] = data.pop(alias)
    if not data.get("id") and data.get("organ_no") and data.get("seq_no") not in (None, ""):
        data["id"] = f"KHH-{data['organ_no']}-{data['seq_no']}"
    return data


def read_jsonl(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                yield Rejected(where, f"not valid UTF-8 (byte {error.start})", {RAW_CELL: text})
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as error:
                yield Rejected(
                    where, f"bad JSON: {error.msg} at column {error.colno}", {RAW_CELL: line.rstrip("\r\n")}
                )
                continue
            if not isinstance(obj, dict):
                yield Rejected(where, "not a JSON object", {RAW_CELL: line.rstrip("\r\n")})
                continue
            yield to_record(where, harvest_fields(obj))
