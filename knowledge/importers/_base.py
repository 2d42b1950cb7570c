"""What every importer yields: a parsed record or a rejection, each tagged with where it came from."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from knowledge.faq import FaqRecord
from knowledge.html import html_to_text, links_in, only_dead_links

__all__ = [
    "ROW_FIELDS",
    "Parsed",
    "Rejected",
    "Row",
    "Reader",
    "ImportError_",
    "answer_problem",
    "row_cells",
    "to_record",
]

# The record's fields in the order a spreadsheet of FAQs shows them (a rejected row's cells).
ROW_FIELDS = (
    "id",
    "question",
    "answer",
    "alt_questions",
    "agency",
    "category",
    "keywords",
    "source_url",
    "sources",
    "post_date",
    "revise_date",
    "status",
)
RAW_CELL = "raw"  # a rejected row that is no record at all (bad JSON, bad bytes): its text


@dataclass(frozen=True, slots=True)
class Parsed:
    """A good row. ``where`` is human-readable: ``line 12``, ``record 7``, ``row 3``."""

    where: str
    record: FaqRecord


@dataclass(frozen=True, slots=True)
class Rejected:
    """A malformed row, kept out of the store, with the reason a person can act on.

    ``row`` is the row itself as text cells (the record's field names, see ``row_cells``; or
    ``raw`` for a line that is no record), so a person can fix it and import it again.
    """

    where: str
    reason: str
    row: Mapping[str, str] = field(default_factory=dict)


def _cell_text(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        separator = "|" if name == "alt_questions" else ","
        return separator.join(_cell_text(name, item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def row_cells(data: Mapping[str, Any]) -> dict[str, str]:
    """A row's fields as text cells, as the CSV importer reads them back: several alternative
    questions joined by ``|``, keywords and sources by commas; fields not in ``ROW_FIELDS`` last."""
    known = [name for name in ROW_FIELDS if name in data]
    rest = [str(name) for name in data if name not in ROW_FIELDS]
    return {name: _cell_text(name, data[name]) for name in [*known, *rest]}


Row = Parsed | Rejected


class ImportError_(Exception):  # noqa: N801 - avoid shadowing the builtin ImportError
    """The whole file cannot be read (missing, wrong format, unreadable header)."""


class Reader(Protocol):
    """An importer: reads one file and yields every row, good or bad, in file order."""

    def __call__(self, path: Path) -> Iterator[Row]: ...


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "row"
        message = item["msg"]
        if item["type"] in {"missing", "string_too_short"}:
            message = "missing or empty"
        parts.append(f"{field}: {message}")
    return "; ".join(parts)


_TAG = re.compile(r"<[A-Za-z/!][^>]*>")


def answer_problem(answer: str) -> str | None:
    """Why an answer (already plain text) is unusable, or None.

    A titled link ("the form (https://...)") is an answer; a bare URL or punctuation is not.
    """
    if not answer.strip():
        return "answer: missing or empty"
    rest = _URL_OR_PAREN.sub("", answer)
    if not any(ch.isalnum() for ch in rest):
        return "answer: only a bare link, no text" if links_in(answer) else "answer: no text"
    return None


_URL_OR_PAREN = re.compile(r"\(?https?://[^\s)）]+\)?")


def to_record(where: str, data: dict[str, Any]) -> Row:
    """Validate a mapping into a record, or a rejection naming each bad field.

    An answer in HTML is turned into plain text first; one that is only markup or only
    a link is rejected.
    """
    answer = data.get("answer")
    if isinstance(answer, str) and _TAG.search(answer):
        if only_dead_links(answer):
            return Rejected(where, "answer: only an empty link", row_cells(data))
        original = data
        data = {**data, "answer": html_to_text(answer)}
        if not data["answer"]:
            return Rejected(where, "answer: only HTML markup, no text", row_cells(original))
    if isinstance(data.get("answer"), str) and data["answer"].strip():
        problem = answer_problem(data["answer"])
        if problem:
            return Rejected(where, problem, row_cells(data))
    try:
        return Parsed(where, FaqRecord.model_validate(data))
    except ValidationError as error:
        return Rejected(where, _describe(error), row_cells(data))
