"""The soweb scraper against a loopback fake of the API (tests/fakes/soweb_api.py)."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.faq import FaqRecord
from knowledge.importers import Parsed, Rejected, Row, to_record
from knowledge.importers.jsonl import read_jsonl
from knowledge.importers.soweb import (
    SOWEB_SITE,
    USER_AGENT,
    RateLimiter,
    ScrapeProgress,
    SowebBlocked,
    SowebDetail,
    SowebScraper,
    detail_record_dict,
    soweb_record_dict,
)
from knowledge.importers.soweb import _client as soweb_client
from tests.fakes.soweb_api import (
    CATEGORY,
    FakeEntry,
    FakeSowebApi,
    Fault,
    Hit,
    detail_key,
    list_key,
    load_categories,
    load_harvest,
)

# -- fixture records (our own text) ---------------------------------------------------------

CATEGORIES = [{"kind": "01", "kind_name": "工務"}, {"kind": "02", "kind_name": "環保"}]
ENTRIES = [
    FakeEntry(
        "397000000A",
        1,
        "路燈不亮要找誰？",
        "請撥打1999通報，或上網填寫報修單。",
        "高雄市政府工務局",
        "工務",
        "20200102",
        "20210304",
        50,
    ),
    FakeEntry(
        "397000000A",
        2,
        "人行道破損怎麼辦？",
        "可撥打1999，由養護工程處派員修補。",
        "高雄市政府工務局",
        "工務",
        "20200105",
        "20200105",
        40,
    ),
    FakeEntry(
        "397000000B",
        1,
        "大型廢棄家具怎麼丟？",
        "請先預約清運，再於約定時間放置指定地點。",
        "高雄市政府環境保護局",
        "環保",
        "20190701",
        "20220801",
        30,
    ),
    FakeEntry(
        "397000000B",
        2,
        "資源回收日是哪幾天？",
        '<p>回收時間請見<a href="https://example.org/recycle">清運時刻表</a>。</p><script>track()</script><p>週日與週三停收。</p>',
        "高雄市政府環境保護局",
        "環保",
        "20190702",
        "20190702",
        20,
    ),
    # a category /category does not name, and one without a category (or dates)
    FakeEntry(
        "397000000C",
        7,
        "青年創業貸款如何申請？",
        "備妥計畫書向青年局提出申請。",
        "高雄市政府青年局",
        "青年",
        "20230101",
        "20230101",
        10,
    ),
    FakeEntry(
        "397000000D",
        3,
        "里長辦公處在哪裡？",
        "可至各區公所網站查詢里辦公處地址。",
        "高雄市政府民政局",
        None,
        None,
        None,
        5,
    ),
]
IDS = [f"KHH-{e.organ_no}-{e.seq_no}" for e in ENTRIES]


def _expected(entries: list[FakeEntry]) -> dict[str, FaqRecord]:
    """What the JSONL mapping gives for the same entries."""
    records: dict[str, FaqRecord] = {}
    for e in entries:
        row = to_record(
            "x",
            soweb_record_dict(
                e.organ_no, e.seq_no, e.question, e.answer, e.agency, e.kind_name, e.post_date, e.revise_date
            ),
        )
        assert isinstance(row, Parsed), row
        records[row.record.id] = row.record
    return records


def _records(rows: list[Row]) -> dict[str, FaqRecord]:
    return {row.record.id: row.record for row in rows if isinstance(row, Parsed)}


@pytest.fixture
def api(caplog: pytest.LogCaptureFixture) -> Iterator[FakeSowebApi]:
    caplog.set_level(logging.INFO, logger=SCRAPER_LOG)  # the retries and their reasons (_asked)
    with FakeSowebApi(ENTRIES, CATEGORIES) as fake:
        yield fake


SCRAPER_LOG = "knowledge.importers.soweb"
TIMEOUT = 1.0  # the fast scraper's per request: a SLOW fault costs this much


def _fast(api: FakeSowebApi, state: Path, **options: Any) -> SowebScraper:
    """A scraper without the rate limit, with short backoff (for speed). Its time-out is what a
    SLOW fault costs; an answer of the fake that comes later still (a stalled machine) is a
    time-out too, which ``_asked`` tells apart."""
    settings: dict[str, Any] = {"rate": math.inf, "timeout": TIMEOUT, "backoff": 0.01, "max_retries": 3}
    return SowebScraper(api.url, state, **(settings | options))


def _asked(hits: list[Hit], caplog: pytest.LogCaptureFixture) -> list[str]:
    """The keys the scraper asked for, less each repeat of a request that was answered without a
    fault: the client can only have given up on that answer (a time-out on a stalled machine:
    it came later than the time-out). Each such repeat must come on a new connection, and the
    scraper's log must show a time-out for each (beyond those of the SLOW faults); a repeat
    without one (the scraper asking for a page twice) fails the test."""
    last: dict[str, Hit] = {}
    asked, gave_up = [], 0
    for hit in hits:
        earlier = last.get(hit.key)
        last[hit.key] = hit
        if earlier is not None and earlier.fault is None:
            assert hit.connection != earlier.connection, f"{hit.key} asked twice on one connection"
            gave_up += 1
            continue
        asked.append(hit.key)
    retries = [
        r.getMessage() for r in caplog.records if r.name == SCRAPER_LOG and "; retry " in r.getMessage()
    ]
    timed_out = sum(1 for message in retries if "timed out" in message)
    slow = sum(1 for hit in hits if hit.fault is Fault.SLOW)
    assert gave_up <= timed_out - slow, (
        f"{gave_up} answered requests asked again, {timed_out - slow} time-outs"
    )
    return asked


# -- (d) mapping and HTML, no server --------------------------------------------------------


def test_soweb_record_dict_is_the_shared_mapping() -> None:
    assert soweb_record_dict("397007000Q", 1, "問", "答", "某局", None, "20110112", "") == {
        "id": "KHH-397007000Q-1",
        "question": "問",
        "answer": "答",
        "agency": "某局",
        "category": "",
        "source_url": f"{SOWEB_SITE}/#/faqdetail/397007000Q/1",
        "post_date": "20110112",
        "revise_date": "",
    }


def test_a_detail_becomes_a_record_with_parsed_dates() -> None:
    detail = SowebDetail.model_validate(
        {"IssueContent": "路燈不亮要找誰？", "IssueKind": "工務", "PostDate": 20200102, "ReviseDate": "20210304",
         "ReplyContent": "請撥打1999。", "ReplyOrganName": "高雄市政府工務局", "Name": "x", "ViewCount": "3"}
    )  # fmt: skip
    row = to_record("KHH-397000000A-1", detail_record_dict("397000000A", 1, detail))
    assert isinstance(row, Parsed)
    record = row.record
    assert (record.id, record.category, record.agency) == ("KHH-397000000A-1", "工務", "高雄市政府工務局")
    assert (str(record.post_date), str(record.revise_date)) == ("2020-01-02", "2021-03-04")


def test_missing_kind_and_agency_fall_back_to_the_listing() -> None:
    detail = SowebDetail.model_validate({"IssueContent": "問題？", "ReplyContent": "答案。"})
    data = detail_record_dict("A1", 2, detail, listed_kind_name="環保", listed_organ_name="環保局")
    assert (data["category"], data["agency"]) == ("環保", "環保局")


def test_html_answers_become_plain_text() -> None:
    detail = SowebDetail.model_validate(
        {
            "IssueContent": "資源回收日是哪幾天？",
            "ReplyContent": '<p>請見<a href="https://example.org/t">時刻表</a>。</p>'
            "<style>p{}</style><script>x()</script><p>週日停收&nbsp;。</p>",
        }
    )
    row = to_record("x", detail_record_dict("A1", 2, detail))
    assert isinstance(row, Parsed)
    assert row.record.answer == "請見時刻表 (https://example.org/t)。\n\n週日停收 。"


def test_entities_without_tags_are_decoded_but_urls_kept() -> None:
    detail = SowebDetail.model_validate(
        {"IssueContent": "問？", "ReplyContent": "Q&amp;A 見 https://x.tw/a?b=1&c=2&copy"}
    )
    assert detail_record_dict("A1", 1, detail)["answer"] == "Q&A 見 https://x.tw/a?b=1&c=2&copy"


def test_rate_limiter_spaces_calls_evenly() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.wait()
    assert slept == [0.25, 0.25, 0.25, 0.25]
    now[0] += 10  # idle time is not saved up for a burst
    limiter.wait()
    limiter.wait()
    assert slept[-1] == pytest.approx(0.25)


# -- scraping the fake ----------------------------------------------------------------------


def test_a_scrape_yields_every_entry_in_the_mapping_shape(
    api: FakeSowebApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scraper = _fast(api, tmp_path / "state")
    rows = list(scraper.scrape())
    assert all(isinstance(row, Parsed) for row in rows)
    assert [row.where for row in rows] == IDS  # listing order: kind 01, kind 02, then the rest
    assert _records(rows) == _expected(ENTRIES)
    assert _records(rows)["KHH-397000000B-2"].answer == (
        "回收時間請見清運時刻表 (https://example.org/recycle)。\n\n週日與週三停收。"
    )
    summary = scraper.summary
    assert (summary.listed, summary.fetched, summary.resumed, summary.failed) == (6, 6, 0, [])
    assert summary.complete
    assert summary.requests == len(api.hits)
    assert len(_asked(api.hits, caplog)) == 1 + 3 + 6


def test_the_default_rate_limit_and_politeness_hold(
    api: FakeSowebApi, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scraper's rate limiter runs on a fake clock: every request must wait its turn on it, at
    # the default rate; the limiter's own spacing on a real clock is test_soweb_ratelimit.py's.
    now = [0.0]
    turns: list[tuple[float, int]] = []  # (the limiter's time, requests the fake had seen by then)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    class OnAFakeClock(RateLimiter):
        def __init__(self, rate: float, **_: Any) -> None:
            super().__init__(rate, clock=lambda: now[0], sleep=sleep)

        def wait(self) -> None:
            super().wait()
            turns.append((now[0], len(api.hits)))

    monkeypatch.setattr(soweb_client, "RateLimiter", OnAFakeClock)
    progress: list[ScrapeProgress] = []
    scraper = SowebScraper(api.url, tmp_path / "state")  # defaults: 3 requests a second
    rows = list(scraper.scrape(progress=progress.append))
    assert len(rows) == 6
    hits = api.hits
    assert len(_asked(hits, caplog)) == 10
    assert [seen for _, seen in turns] == list(range(len(hits))), "each request waited its own turn"
    gaps = [b - a for (a, _), (b, _) in zip(turns, turns[1:], strict=False)]
    assert gaps == pytest.approx([1 / 3.0] * (len(hits) - 1))
    assert api.connections == 1 + (len(hits) - 10)  # one kept-alive connection (a new one per time-out)
    assert {hit.user_agent for hit in hits} == {USER_AGENT}
    details = [hit for hit in hits if hit.key.startswith("detail:")]
    assert len({hit.key for hit in details}) == 6
    assert all(hit.query["updFlag"] == ["R"] for hit in details)
    assert api.views == {(e.organ_no, e.seq_no): e.view_count for e in ENTRIES}  # never bumped
    assert [(p.phase, p.done, p.total) for p in progress][-1] == ("details", 6, 6)
    assert [p.outcome for p in progress if p.phase == "details"] == ["fetched"] * 6


@pytest.mark.parametrize("fault", [Fault.SLOW, Fault.ERROR, Fault.BLOCKED, Fault.DROP])
def test_transient_faults_are_retried(
    api: FakeSowebApi, tmp_path: Path, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    api.inject(CATEGORY, fault)
    api.inject(list_key(""), fault)
    api.inject(detail_key("397000000B", 1), fault, fault)
    scraper = _fast(api, tmp_path / "state")
    rows = list(scraper.scrape())
    assert _records(rows) == _expected(ENTRIES)
    assert scraper.summary.complete
    asked = Counter(_asked(api.hits, caplog))
    assert (asked[CATEGORY], asked[list_key("")], asked[detail_key("397000000B", 1)]) == (2, 2, 3)


@pytest.mark.parametrize("fault", [Fault.SLOW, Fault.ERROR, Fault.BLOCKED])
def test_an_entry_that_keeps_failing_is_reported_and_the_run_goes_on(
    api: FakeSowebApi, tmp_path: Path, fault: Fault
) -> None:
    api.always(detail_key("397000000A", 2), fault)
    scraper = _fast(api, tmp_path / "state", max_retries=2)
    rows = list(scraper.scrape())
    failed = [row for row in rows if isinstance(row, Rejected)]
    assert [row.where for row in failed] == ["KHH-397000000A-2"]
    assert "after 3 attempts" in failed[0].reason
    assert {"slow": "timed out", "error": "HTTP 500", "blocked": "blocked"}[fault] in failed[0].reason
    assert len(_records(rows)) == 5
    assert scraper.summary.failed == ["KHH-397000000A-2"]
    assert not scraper.summary.complete
    assert api.count(detail_key("397000000A", 2)) == 3

    api.clear_faults()  # the next run fetches only what is missing
    rows = list(scraper.scrape())
    assert _records(rows) == _expected(ENTRIES)
    assert (scraper.summary.fetched, scraper.summary.resumed) == (1, 5)
    assert api.count(detail_key("397000000A", 2)) == 4


def test_a_missing_entry_is_not_retried(api: FakeSowebApi, tmp_path: Path) -> None:
    api.always(detail_key("397000000B", 1), Fault.NOT_FOUND)
    rows = list(_fast(api, tmp_path / "state").scrape())
    assert [(r.where, r.reason) for r in rows if isinstance(r, Rejected)] == [
        ("KHH-397000000B-1", "not fetched: HTTP 404 (after 1 attempt)")
    ]
    assert api.count(detail_key("397000000B", 1)) == 1


def test_many_failures_in_a_row_stop_the_run(api: FakeSowebApi, tmp_path: Path) -> None:
    for e in ENTRIES:
        api.always(detail_key(e.organ_no, e.seq_no), Fault.BLOCKED)
    scraper = _fast(api, tmp_path / "state", max_retries=1, max_consecutive_failures=3)
    rows: list[Row] = []
    with pytest.raises(SowebBlocked, match="3 entries failed in a row"):
        rows.extend(scraper.scrape())
    assert [row.where for row in rows] == IDS[:3]
    assert len([hit for hit in api.hits if hit.key.startswith("detail:")]) == 3 * 2


def test_a_failed_listing_is_reported_and_the_other_passes_still_find_everything(
    api: FakeSowebApi, tmp_path: Path
) -> None:
    api.always(CATEGORY, Fault.ERROR)
    scraper = _fast(api, tmp_path / "state", max_retries=1)
    rows = list(scraper.scrape())
    assert [(r.where, r.reason) for r in rows if isinstance(r, Rejected)] == [
        ("category", "not fetched: HTTP 500 (after 2 attempts)")
    ]
    assert _records(rows) == _expected(ENTRIES)
    assert scraper.summary.failed == ["category"]

    api.clear_faults()  # an incomplete listing is not kept: the next run lists again
    list(scraper.scrape())
    assert api.count(CATEGORY) == 3
    assert scraper.summary.listing_from_state is False


class _Interrupt(Exception):
    pass


def test_an_interrupted_run_resumes_without_fetching_again(
    api: FakeSowebApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"

    def stop_after_three(step: ScrapeProgress) -> None:
        if step.phase == "details" and step.done == 3:
            raise _Interrupt

    first: list[Row] = []
    with pytest.raises(_Interrupt):
        first.extend(_fast(api, state).scrape(progress=stop_after_three))
    assert len(first) == 2
    assert len((state / "details.jsonl").read_text("utf-8").splitlines()) == 3
    requests_before = len(api.hits)
    caplog.clear()

    scraper = _fast(api, state)
    rows = list(scraper.scrape())
    assert _records(rows) == _expected(ENTRIES)
    assert [row.where for row in rows] == IDS
    again = _asked(api.hits[requests_before:], caplog)
    assert again == [detail_key(e.organ_no, e.seq_no) for e in ENTRIES[3:]]  # no listing, no repeats
    summary = scraper.summary
    assert (summary.listed, summary.fetched, summary.resumed, summary.listing_from_state) == (6, 3, 3, True)

    scraper.reset()
    assert not state.exists()


def test_a_torn_last_line_is_dropped_and_that_entry_fetched_again(api: FakeSowebApi, tmp_path: Path) -> None:
    state = tmp_path / "state"

    def crash_after_five(step: ScrapeProgress) -> None:
        if step.phase == "details" and step.done == 5:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        list(_fast(api, state).scrape(progress=crash_after_five))
    details = state / "details.jsonl"
    lines = details.read_bytes().splitlines(keepends=True)
    assert len(lines) == 5
    details.write_bytes(b"".join(lines[:4]) + lines[4][:25])  # the crash hit the middle of line 5

    scraper = _fast(api, state)
    rows = list(scraper.scrape())
    assert _records(rows) == _expected(ENTRIES)
    assert (scraper.summary.fetched, scraper.summary.resumed) == (2, 4)
    assert len(details.read_text("utf-8").splitlines()) == 6


def test_after_a_complete_run_the_next_one_starts_afresh(
    api: FakeSowebApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scraper = _fast(api, tmp_path / "state")
    list(scraper.scrape())
    first = _asked(api.hits, caplog)
    requests_before = len(api.hits)
    caplog.clear()
    rows = list(scraper.scrape())
    assert _records(rows) == _expected(ENTRIES)
    assert (scraper.summary.fetched, scraper.summary.resumed, scraper.summary.listing_from_state) == (
        6,
        0,
        False,
    )
    assert _asked(api.hits[requests_before:], caplog) == first  # every page again, in the same order


# -- (a) the whole Kaohsiung harvest through the fake, with faults ------------------------


@pytest.mark.shared_data
@pytest.mark.slow
def test_a_faulty_full_scrape_equals_the_source_records(
    shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SCRAPER_LOG)
    source = shared_data / "kaohsiung_faq.jsonl"
    entries = load_harvest(source)
    categories = load_categories(shared_data / "soweb_api_samples" / "category.json")
    expected = _expected(entries)
    assert expected == _records(list(read_jsonl(source)))  # the lead's importer agrees with the mapping

    with FakeSowebApi(entries, categories) as api:
        api.random_faults(0.02, seed=1999, max_per_key=2)
        scraper = SowebScraper(api.url, tmp_path / "state", rate=5000, timeout=TIMEOUT, backoff=0.005)
        rows = list(scraper.scrape())
        hits = api.hits
        connections = api.connections
        idle_closed = api.idle_closed

    assert [row for row in rows if isinstance(row, Rejected)] == []
    assert _records(rows) == expected
    assert scraper.summary.listed == len(entries) == 1427
    assert scraper.summary.complete
    faults = [hit.fault for hit in hits if hit.fault]
    assert set(faults) == {Fault.SLOW, Fault.ERROR, Fault.BLOCKED, Fault.DROP}
    asked = _asked(hits, caplog)
    gave_up = len(hits) - len(asked)  # answers the client stopped waiting for (a stalled machine)
    # each page once, and once more after each fault
    assert len(asked) == 1 + len(categories) + 1 + len(entries) + len(faults)
    assert {hit.user_agent for hit in hits} == {USER_AGENT}
    assert all(hit.query.get("updFlag") == ["R"] for hit in hits if hit.key.startswith("detail:"))
    # the connection is kept alive; only a time-out, a dropped connection or the server closing an
    # idle one (never within its minute, unless the client stalled that long) costs a new one
    assert connections <= 1 + sum(1 for f in faults if f in (Fault.SLOW, Fault.DROP)) + idle_closed + gave_up
