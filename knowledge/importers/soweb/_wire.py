"""The response shapes of the Kaohsiung FAQ web API, validated as they arrive.

Field names follow the API (``OrganNo``, ``kind_name``) through aliases; unknown
fields are ignored so an added field on the server does not break a scrape.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = ["SowebCategory", "SowebDetail", "SowebListItem"]


def _text_or_none(value: Any) -> str | None:
    """Strings stay strings; numbers (a date sent as 20110112) become strings; null stays None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("expected a string")


OptionalText = Annotated[str | None, BeforeValidator(_text_or_none)]
_CONFIG = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class SowebCategory(BaseModel):
    """``GET /webapi/api/category``: one ``{kind, kind_name}`` pair, e.g. ``{"kind": "03", "kind_name": "交通"}``."""

    model_config = _CONFIG

    kind: str = Field(min_length=1)
    kind_name: OptionalText = None


class SowebListItem(BaseModel):
    """One hit of ``GET /webapi/api/faqqry/{q}?kind=``: enough to address the entry's detail."""

    model_config = _CONFIG

    organ_no: str = Field(alias="OrganNo", min_length=1)
    seq_no: int = Field(alias="SeqNo")
    question: OptionalText = Field(default=None, alias="CaseContent")
    organ_name: OptionalText = Field(default=None, alias="OrganName")


class SowebDetail(BaseModel):
    """``GET /webapi/api/faqqry/{OrganNo}?seqNo=&updFlag=R``: the entry itself.

    ``IssueKind`` is the category *name* (``空大``), not its code; dates are ``yyyymmdd``;
    ``ReplyContent`` may be HTML.
    """

    model_config = _CONFIG

    question: OptionalText = Field(default=None, alias="IssueContent")
    kind_name: OptionalText = Field(default=None, alias="IssueKind")
    post_date: OptionalText = Field(default=None, alias="PostDate")
    revise_date: OptionalText = Field(default=None, alias="ReviseDate")
    reply: OptionalText = Field(default=None, alias="ReplyContent")
    reply_organ_name: OptionalText = Field(default=None, alias="ReplyOrganName")
    name: OptionalText = Field(default=None, alias="Name")
