"""``bot1999 kb scrape kaohsiung``: the Kaohsiung city FAQ service (soweb) through its web API.

The API (base ``https://soweb.kcg.gov.tw``)::

    GET /webapi/api/category                           -> [{kind, kind_name}]
    GET /webapi/api/faqqry/{q}?kind={kind}             -> [{SerialNo, CaseContent, OrganName, ViewCount, OrganNo, SeqNo}]
    GET /webapi/api/faqqry/{OrganNo}?seqNo={n}&updFlag=R
        -> {IssueContent, IssueKind, PostDate, ReplyContent, ReplyOrganName, ReviseDate, ViewCount, Name}

How everything is enumerated, and the assumptions that rest on:

* One listing per category code from ``/category``, then one with an empty ``kind``.
  The empty pass is there for entries the category list does not name: 79 harvested
  entries have no ``IssueKind`` and a few carry a kind name (``毒防``, ``青年``...) that
  ``/category`` does not list. Whether the server reads an empty ``kind`` as "no filter"
  or as "no category", the union of all passes (deduplicated on ``(OrganNo, SeqNo)``)
  covers both readings.
* ``{q}`` is a search keyword; a blank one (a single space, sent as ``%20``) is assumed to
  match every entry, as the site's own category browsing does. This has not been
  verified against the live server; pass ``keyword=`` to change it.
* A listing is not paged (the sample for ``kind=33`` holds all 21 entries of that
  category in one answer).
* Details are always read with ``updFlag=R``; ``N`` would add one to the public view counter.

Politeness: at most ``rate`` (3) requests a second, evenly spaced, retries included; one
kept-alive connection; the User-Agent ``bot1999-faq-scraper/0.1 (+https://github.com/bot1999)``.
Time-outs, connection errors, 5xx / 408 / 429 and blocked answers (HTTP 200 whose body is
not JSON, e.g. an HTML block page) are retried with exponential backoff, ``max_retries``
times; then the entry is a ``Rejected`` row and in ``summary.failed``, and the run goes
on, unless ``max_consecutive_failures`` entries fail in a row (``SowebBlocked``).

Resuming: ``state_dir`` keeps the complete listing and every fetched detail (appended and
fsync'd as it arrives). A rerun with the same folder fetches only what is missing, so an
interrupted or partly failed run is finished by running it again. A run that got every
entry marks the folder complete, and the run after it starts afresh (a refresh);
``reset()`` forces a fresh start at any time.

Typical use (the CLI)::

    scraper = SowebScraper(SOWEB_SITE, Path("var/scrape/kaohsiung"))
    rows = list(scraper.scrape(progress=lambda p: ...))
    print(scraper.summary)
"""

from __future__ import annotations

from knowledge.importers.soweb._client import USER_AGENT, FetchFailed, SowebClient
from knowledge.importers.soweb._mapping import (
    SOWEB_SITE,
    detail_record_dict,
    entry_id,
    page_url,
    soweb_record_dict,
)
from knowledge.importers.soweb._ratelimit import RateLimiter
from knowledge.importers.soweb._scraper import (
    DEFAULT_KEYWORD,
    ProgressCallback,
    ScrapeProgress,
    ScrapeSummary,
    SowebBlocked,
    SowebScraper,
)
from knowledge.importers.soweb._state import ScrapeState
from knowledge.importers.soweb._wire import SowebCategory, SowebDetail, SowebListItem

__all__ = [
    "DEFAULT_KEYWORD",
    "SOWEB_SITE",
    "USER_AGENT",
    "FetchFailed",
    "ProgressCallback",
    "RateLimiter",
    "ScrapeProgress",
    "ScrapeState",
    "ScrapeSummary",
    "SowebBlocked",
    "SowebCategory",
    "SowebClient",
    "SowebDetail",
    "SowebListItem",
    "SowebScraper",
    "detail_record_dict",
    "entry_id",
    "page_url",
    "soweb_record_dict",
]
