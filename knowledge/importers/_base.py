"""What every importer yields: a parsed record or a rejection, each tagged with where it came from."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from knowledge.faq import FaqRecord
from knowledge.html import html_to_text, links_in, only_dead_links

__all__ = ["Parsed", "Rejected", "Row", "Reader", "ImportError_", "answer_problem", "to_record"]


@dataclass(frozen=True, slots=True)
class Parsed:
    """A good row. ``where`` is human-readable: ``line 12``, ``record 7``, ``row 3``."""

    where: str
    record: FaqRecord


@dataclass(frozen=True, slots=True)
class Rejected:
    """A malformed row, kept out of the store, with the reason a person can act on."""

    where: str
    reason: str


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
            return Rejected(where, "answer: only an empty link")
        data = {**data, "answer": html_to_text(answer)}
        if not data["answer"]:
            return Rejected(where, "answer: only HTML markup, no text")
    if isinstance(data.get("answer"), str) and data["answer"].strip():
        problem = answer_problem(data["answer"])
        if problem:
            return Rejected(where, problem)
    try:
        return Parsed(where, FaqRecord.model_validate(data))
    except ValidationError as error:
        return Rejected(where, _describe(error))
