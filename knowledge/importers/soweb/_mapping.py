"""One soweb FAQ entry to the fields of a ``FaqRecord``: shared by the scraper and the JSONL importer."""

from __future__ import annotations

import html
import re
from typing import Any

from knowledge.importers.soweb._wire import SowebDetail

__all__ = ["SOWEB_SITE", "detail_record_dict", "entry_id", "page_url", "soweb_record_dict"]

SOWEB_SITE = "https://soweb.kcg.gov.tw"
"""The public site; record ids and page links always name it, whichever host was scraped."""


def entry_id(organ_no: str, seq_no: int | str) -> str:
    """``KHH-397007000Q-1``: the id of the entry in the knowledge base."""
    return f"KHH-{organ_no}-{seq_no}"


def page_url(organ_no: str, seq_no: int | str) -> str:
    """The entry's page on the public site, shown to citizens as "more"."""
    return f"{SOWEB_SITE}/#/faqdetail/{organ_no}/{seq_no}"


def soweb_record_dict(
    organ_no: str,
    seq_no: int | str,
    question: str | None,
    answer: str | None,
    agency: str | None,
    kind_name: str | None,
    post_date: str | None,
    revise_date: str | None,
) -> dict[str, Any]:
    """The mapping ``knowledge.importers.to_record`` validates into a ``FaqRecord``.

    Dates stay ``yyyymmdd`` strings (or None) and an HTML answer stays HTML: ``to_record``
    parses the one and turns the other into plain text.
    """
    return {
        "id": entry_id(organ_no, seq_no),
        "question": question,
        "answer": answer,
        "agency": agency,
        "category": kind_name or "",
        "source_url": page_url(organ_no, seq_no),
        "post_date": post_date,
        "revise_date": revise_date,
    }


_TAG = re.compile(r"<[A-Za-z/!][^>]*>")
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _reply_text(reply: str | None) -> str | None:
    """Entities in an answer without tags (``&nbsp;``) are decoded here; tagged HTML is left to ``to_record``.

    Only complete entities (with the ``;``) are decoded, so URLs such as ``?a=1&b=2`` are untouched.
    """
    if reply is None or _TAG.search(reply):
        return reply
    return _ENTITY.sub(lambda match: html.unescape(match.group()), reply)


def detail_record_dict(
    organ_no: str,
    seq_no: int,
    detail: SowebDetail,
    *,
    listed_kind_name: str | None = None,
    listed_organ_name: str | None = None,
) -> dict[str, Any]:
    """A detail response (plus what the listing said about the entry) as ``soweb_record_dict``.

    The agency is the replying organ (``ReplyOrganName``, else ``Name``, else the listing's
    short ``OrganName``); the category is ``IssueKind``, else the category the entry was
    listed under.
    """
    return soweb_record_dict(
        organ_no,
        seq_no,
        question=detail.question,
        answer=_reply_text(detail.reply),
        agency=detail.reply_organ_name or detail.name or listed_organ_name,
        kind_name=detail.kind_name or listed_kind_name,
        post_date=detail.post_date,
        revise_date=detail.revise_date,
    )
