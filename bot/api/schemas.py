"""Wire formats of the knowledge-base API (create / update / public are separate models)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from knowledge.faq import MAX_ANSWER_CHARS, MAX_QUESTION_CHARS, FaqStatus

__all__ = ["FaqCreate", "FaqUpdate", "FaqPublic", "FaqList", "RevisionPublic", "KbVersion", "Health"]

_QUESTION = Field(min_length=1, max_length=MAX_QUESTION_CHARS)


def _utc(value: datetime) -> datetime:
    """The stores write UTC; SQLite gives it back without its zone, so say which it is."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Timestamp = Annotated[datetime, AfterValidator(_utc)]  # RFC 3339 on the wire, with its offset


class FaqFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = _QUESTION
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    alt_questions: list[str] = Field(default_factory=list, max_length=100)
    agency: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=200)
    keywords: list[str] = Field(default_factory=list, max_length=100)
    source_url: str = Field(default="", max_length=2000)
    sources: list[str] = Field(default_factory=list, max_length=50)
    post_date: date | None = None
    revise_date: date | None = None


class FaqCreate(FaqFields):
    """A new entry; it starts as a draft unless ``status`` says otherwise."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
    status: FaqStatus = FaqStatus.DRAFT


class FaqUpdate(BaseModel):
    """A partial edit, made against ``revision`` (the edit is refused if the entry moved on)."""

    model_config = ConfigDict(extra="forbid")

    revision: int = Field(ge=1, description="The revision the edit was made on.")
    question: str | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_CHARS)
    alt_questions: list[str] | None = Field(default=None, max_length=100)
    agency: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=200)
    keywords: list[str] | None = Field(default=None, max_length=100)
    source_url: str | None = Field(default=None, max_length=2000)
    sources: list[str] | None = Field(default=None, max_length=50)
    post_date: date | None = None
    revise_date: date | None = None


class FaqPublic(FaqFields):
    model_config = ConfigDict(extra="ignore", from_attributes=True)

    id: str
    status: FaqStatus
    revision: int
    created_at: Timestamp
    updated_at: Timestamp


class FaqList(BaseModel):
    items: list[FaqPublic]
    total: int
    page: int
    per_page: int


class RevisionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    revision: int
    action: str
    actor: str
    note: str
    at: Timestamp
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class KbVersion(BaseModel):
    version: int


class Health(BaseModel):
    status: str
    database: str
    kb_version: int
    # how many times this replica's harvest scheduler has looked whether a harvest is due (0: no schedule)
    harvest_polls: int = 0
