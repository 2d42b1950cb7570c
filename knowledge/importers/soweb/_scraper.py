"""The scrape itself: list every entry, fetch each detail once, yield importer rows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import httpx
from pydantic import ValidationError

from knowledge.importers._base import Rejected, Row, to_record
from knowledge.importers.soweb._client import FetchFailed, SowebClient
from knowledge.importers.soweb._mapping import detail_record_dict, entry_id
from knowledge.importers.soweb._state import EntryKey, Fetched, Listed, ScrapeState
from knowledge.importers.soweb._wire import SowebDetail

__all__ = [
    "DEFAULT_KEYWORD",
    "ProgressCallback",
    "ScrapeProgress",
    "ScrapeSummary",
    "SowebBlocked",
    "SowebScraper",
]

logger = logging.getLogger("knowledge.importers.soweb")

DEFAULT_KEYWORD = " "
"""The search keyword of a listing: blank, which (by assumption, see the package docs) matches every entry."""


@dataclass(frozen=True, slots=True)
class ScrapeProgress:
    """One step done. ``phase`` "listing": ``done`` of ``total`` listing requests; "details":
    ``done`` of ``total`` entries, ``item`` being the entry id."""

    phase: Literal["listing", "details"]
    done: int
    total: int
    item: str
    outcome: Literal["listed", "fetched", "resumed", "failed"]


ProgressCallback = Callable[[ScrapeProgress], None]


@dataclass
class ScrapeSummary:
    """What a run did. ``failed`` names each entry id (or listing request) that could not be fetched."""

    listed: int = 0
    fetched: int = 0
    resumed: int = 0
    failed: list[str] = field(default_factory=list)
    requests: int = 0
    listing_from_state: bool = False

    @property
    def complete(self) -> bool:
        """True when nothing failed: every listed entry was yielded."""
        return not self.failed

    def __str__(self) -> str:
        return (
            f"{self.listed} listed, {self.fetched} fetched, {self.resumed} resumed from state, "
            f"{len(self.failed)} failed, {self.requests} requests"
        )


class SowebBlocked(RuntimeError):
    """Too many entries failed in a row: the site is down or refusing us. Stop and resume later."""


class SowebScraper:
    """Scrapes the Kaohsiung FAQ service politely and resumably; see the package docstring."""

    def __init__(
        self,
        base_url: str,
        state_dir: Path,
        *,
        rate: float = 3.0,
        timeout: float = 10.0,
        max_retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        backoff: float = 1.0,
        keyword: str = DEFAULT_KEYWORD,
        max_consecutive_failures: int | None = 10,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries!r}")
        self.base_url = base_url
        self.state = ScrapeState(state_dir)
        self.rate = rate
        self.timeout = timeout
        self.max_retries = max_retries
        self.transport = transport
        self.backoff = backoff
        self.keyword = keyword
        self.max_consecutive_failures = max_consecutive_failures
        self.summary = ScrapeSummary()

    def reset(self) -> None:
        """Forget the state of earlier runs, so the next ``scrape()`` starts from scratch."""
        self.state.reset()

    def scrape(self, progress: ProgressCallback | None = None) -> Iterator[Row]:
        """Every entry as a ``Parsed`` or ``Rejected`` row (``where`` is the entry id), in listing order.

        Entries fetched by an earlier, interrupted (or partly failed) run come from the state
        folder without a request; after a complete run, the next one starts afresh. Failures
        are rows too: a listing request or an entry that kept failing is a ``Rejected`` naming
        it, and is also in ``summary.failed``. Raises ``SowebBlocked`` after
        ``max_consecutive_failures`` failed entries in a row (what was fetched is kept).
        """
        report: ProgressCallback = progress or (lambda _: None)
        self.summary = summary = ScrapeSummary()
        if self.state.is_complete():
            logger.info("the last scrape into %s was complete; starting afresh", self.state.path)
            self.state.reset()
        client = SowebClient(
            self.base_url,
            rate=self.rate,
            timeout=self.timeout,
            max_retries=self.max_retries,
            backoff=self.backoff,
            transport=self.transport,
        )
        try:
            listing = self.state.load_listing()
            if listing is None:
                listing = yield from self._list(client, report)
            else:
                summary.listing_from_state = True
            summary.listed = len(listing)
            yield from self._details(client, listing, report)
            if summary.complete:
                self.state.mark_complete({"listed": summary.listed, "requests": client.requests})
        finally:
            summary.requests = client.requests
            client.close()
            self.state.close()
            logger.info("soweb scrape of %s: %s", self.base_url, summary)

    def _list(self, client: SowebClient, report: ProgressCallback) -> Generator[Row, None, list[Listed]]:
        """One listing per category and one without a category; entries merged in first-seen order."""
        summary = self.summary
        try:
            categories = [(c.kind, c.kind_name) for c in client.categories()]
        except FetchFailed as error:
            summary.failed.append("category")
            yield Rejected("category", _not_fetched(error))
            categories = []
        passes: list[tuple[str, str | None]] = [*categories, ("", None)]
        entries: dict[EntryKey, Listed] = {}
        for done, (kind, kind_name) in enumerate(passes, start=1):
            try:
                items = client.search(self.keyword, kind)
            except FetchFailed as error:
                summary.failed.append(error.what)
                yield Rejected(error.what, _not_fetched(error))
                continue
            for item in items:
                key = (item.organ_no, item.seq_no)
                known = entries.get(key)
                if known is None:
                    entries[key] = Listed(item.organ_no, item.seq_no, item.organ_name, kind_name)
                elif known.kind_name is None and kind_name:
                    entries[key] = replace(known, kind_name=kind_name)
            report(ScrapeProgress("listing", done, len(passes), kind or "(all)", "listed"))
        listing = list(entries.values())
        if not summary.failed:
            self.state.save_listing(listing)
        return listing

    def _details(self, client: SowebClient, listing: list[Listed], report: ProgressCallback) -> Iterator[Row]:
        summary = self.summary
        have = self.state.load_details()
        failures_in_a_row = 0
        for done, entry in enumerate(listing, start=1):
            where = entry_id(entry.organ_no, entry.seq_no)
            item = have.get(entry.key)
            if item is not None:
                summary.resumed += 1
                outcome: Literal["fetched", "resumed", "failed"] = "resumed"
            else:
                try:
                    _, raw = client.detail(entry.organ_no, entry.seq_no, where)
                except FetchFailed as error:
                    summary.failed.append(where)
                    logger.warning("%s", error)
                    report(ScrapeProgress("details", done, len(listing), where, "failed"))
                    yield Rejected(where, _not_fetched(error))
                    failures_in_a_row += 1
                    limit = self.max_consecutive_failures
                    if limit is not None and failures_in_a_row >= limit:
                        raise SowebBlocked(
                            f"{failures_in_a_row} entries failed in a row (last: {error}); "
                            "stopping, run again later to resume"
                        ) from None
                    continue
                item = Fetched(entry, raw)
                self.state.append(item)
                summary.fetched += 1
                outcome = "fetched"
            failures_in_a_row = 0
            report(ScrapeProgress("details", done, len(listing), where, outcome))
            yield _row(where, item)


def _not_fetched(error: FetchFailed) -> str:
    return f"not fetched: {error.reason} (after {error.attempts} attempt{'s' if error.attempts != 1 else ''})"


def _row(where: str, item: Fetched) -> Row:
    try:
        detail = SowebDetail.model_validate(item.detail)
    except ValidationError as error:
        return Rejected(where, f"unreadable detail: {error.error_count()} problem(s)")
    listed = item.listed
    return to_record(
        where,
        detail_record_dict(
            listed.organ_no,
            listed.seq_no,
            detail,
            listed_kind_name=listed.kind_name,
            listed_organ_name=listed.organ_name,
        ),
    )
