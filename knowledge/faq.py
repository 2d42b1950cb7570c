"""The FAQ record: the one typed shape every importer produces and every store accepts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from knowledge.normalize import clean_text

__all__ = ["FaqRecord", "FaqStatus", "parse_date", "MAX_QUESTION_CHARS", "MAX_ANSWER_CHARS"]

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 20_000
MAX_ID_CHARS = 64


class FaqStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


def parse_date(value: Any) -> date | None:
    """Accept ``yyyymmdd``, ``yyyy-mm-dd`` (optionally followed by a time) or a date; '' is None."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    head = text.split()[0].split("T")[0]
    digits = head.replace("-", "").replace("/", "")
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError(f"not a date (expected yyyymmdd or yyyy-mm-dd): {text!r}")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as error:
        raise ValueError(f"not a date ({error}): {text!r}") from None


def _split_list(separators: tuple[str, ...]) -> Callable[[Any], list[str]]:
    """A validator taking a list, or one string split on ``separators``; blanks and repeats go."""

    def split(value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            for sep in separators[1:]:
                value = value.replace(sep, separators[0])
            items: list[Any] = value.split(separators[0])
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise ValueError("expected a list of strings or one delimited string")
        out: list[str] = []
        for item in items:
            text = clean_text(str(item))
            if text and text not in out:
                out.append(text)
        return out

    return split


# Keywords and sources may be comma separated; questions contain commas, so only
# newlines or "|" separate alternative questions given as one string.
StringList = Annotated[list[str], BeforeValidator(_split_list((",", "；", ";", "，", "、", "\n")))]
QuestionList = Annotated[list[str], BeforeValidator(_split_list(("\n", "|")))]
OptionalDate = Annotated[date | None, BeforeValidator(parse_date)]


def _optional_text(value: Any) -> str:
    return "" if value is None else clean_text(str(value))


Text = Annotated[str, BeforeValidator(_optional_text)]


class FaqRecord(BaseModel):
    """One FAQ entry as it travels between importers, the store, the API and retrieval.

    ``sources`` names where the answer's facts come from (an entry id such as
    ``KHH-397007000Q-1`` or an official page URL); ``source_url`` is the page of the
    entry itself, shown to citizens as "more".
    """

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
    question: Text = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: Text = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    alt_questions: QuestionList = Field(default_factory=list)
    agency: Text = ""
    category: Text = ""
    keywords: StringList = Field(default_factory=list)
    source_url: Text = ""
    sources: StringList = Field(default_factory=list)
    post_date: OptionalDate = None
    revise_date: OptionalDate = None
    status: FaqStatus = FaqStatus.PUBLISHED

    @field_validator("alt_questions")
    @classmethod
    def _alt_questions_short(cls, value: list[str]) -> list[str]:
        for alt in value:
            if len(alt) > MAX_QUESTION_CHARS:
                raise ValueError(f"alternative question longer than {MAX_QUESTION_CHARS} characters")
        return value

    def content(self) -> dict[str, Any]:
        """The fields that define the entry's content (everything but its id), JSON-ready."""
        return self.model_dump(mode="json", exclude={"id"})

    def content_hash(self) -> str:
        """A stable hash of the content; equal hashes mean an import would change nothing."""
        blob = json.dumps(self.content(), ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def texts(self) -> list[str]:
        """The question followed by its alternative phrasings."""
        return [self.question, *self.alt_questions]
