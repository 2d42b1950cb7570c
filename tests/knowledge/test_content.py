"""The embedded default knowledge base (knowledge/content/*.jsonl) and its evaluation queries.

The entries are the project's own words; their facts come from the city FAQ they cite
(``../shared/data/kaohsiung_faq.jsonl``). These tests check the shape of every entry, that
each number, phone number and address on the web in an answer occurs in a cited entry, and
that no answer or question copies a 16-character run of any city answer.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from knowledge.faq import FaqRecord
from knowledge.normalize import question_key

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "knowledge" / "content"
QUERIES = REPO / "tests" / "data"
SHARED_DATA = REPO / ".." / "shared" / "data"
CITY_FAQ = SHARED_DATA / "kaohsiung_faq.jsonl"

MIN_ENTRIES = 200
MIN_PER_CATEGORY = 5
MIN_IN_SCOPE_QUERIES = 150
MAX_ANSWER = 300
WINDOW = 16
CATEGORIES = (
    "1999專線",
    "交通與停車",
    "環保與垃圾",
    "地方稅",
    "地政",
    "社會福利",
    "衛生醫療",
    "數位服務",
    "戶政",
    "勞工",
    "報案與派工",
    "其他市政",
)
QUERY_STYLES = {"colloquial", "short", "story", "typo", "simplified", "mixed"}
OUT_OF_SCOPE_KINDS = {"chitchat", "other_domain", "gibberish", "too_vague"}
WHITELISTED_FACTS = {"1999"}  # the hotline's own number needs no source
UNITS = "元時日天點月年歲%分秒倍成週周個張次號樓公里尺斤人件格班小"
URL = re.compile(
    r"(?:https?://|www\.)[A-Za-z0-9./?=&_%#:~+\-]+"
    r"|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:tw|com|org|net)\b[A-Za-z0-9./?=&_%#:~+\-]*",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d+(?:\.\d+)?")
NEXT_STEP = re.compile(r"局|處|中心|公所|所|隊|會|\d{3,}|https?://|\.tw|1999|網|洽|詢|撥|電話|信箱|App|APP")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _entries() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(CONTENT.glob("*.jsonl")):
        rows.extend(_read_jsonl(path))
    return rows


ENTRIES = _entries()
ENTRY_IDS = [str(entry.get("id")) for entry in ENTRIES]


@pytest.fixture(scope="module")
def city() -> dict[str, dict[str, Any]]:
    """The city FAQ by id; skipped when absent, except in CI where it must be there."""
    if not CITY_FAQ.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no shared data at {CITY_FAQ} (CI must run this test)")
        pytest.skip(f"no shared data at {CITY_FAQ}")
    return {str(row["id"]): row for row in _read_jsonl(CITY_FAQ)}


def _squash(text: str) -> str:
    """NFKC, no whitespace: the form in which copied runs are looked for."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _joined(text: str) -> str:
    """NFKC, no parentheses, digit groups joined: (07)229-9825 -> 072299825, 2,050 -> 2050."""
    text = unicodedata.normalize("NFKC", text).replace("(", "").replace(")", "")
    return re.sub(r"(?<=\d)(?:,(?=\d{3}(?!\d))|[- ](?=\d))", "", text)


def answer_facts(answer: str) -> tuple[list[str], list[str]]:
    """The URLs and the numbers an answer states (digit runs of 2+, single digits before a unit)."""
    text = _joined(answer)
    urls = [url.rstrip(".,;:/") for url in URL.findall(text)]
    text = URL.sub(" ", text)
    numbers: list[str] = []
    for match in NUMBER.finditer(text):
        value = match.group()
        unit = text[match.end() : match.end() + 1]
        if len(value.replace(".", "")) >= 2 or (unit and unit in UNITS):
            numbers.append(value)
    return urls, numbers


def unsupported_facts(answer: str, source_text: str) -> list[str]:
    """The facts of ``answer`` that do not occur in ``source_text`` (the cited entries)."""
    plain = unicodedata.normalize("NFKC", source_text).replace("(", "").replace(")", "")
    haystack = f"{_joined(source_text)} {plain}".lower()
    urls, numbers = answer_facts(answer)
    missing = [url for url in urls if url.lower() not in haystack]
    for number in numbers:
        if number in WHITELISTED_FACTS:
            continue
        # A phone number may go on with an extension in the source (07-2626888-201).
        tail = "" if len(number) >= 7 else r"(?!\d)"
        if not re.search(r"(?<!\d)" + re.escape(number) + tail, haystack):
            missing.append(number)
    return missing


def test_the_unit_helpers_find_and_trace_facts() -> None:
    urls, numbers = answer_facts(
        "請撥（07）123-4567轉210，或上 forms.example.tw，費用1,230元，第3小時起收費。"
    )
    assert urls == ["forms.example.tw"]
    assert numbers == ["071234567", "210", "1230", "3"]
    source = "電話：07-1234567轉210，網址https：//forms.example.tw/，每件1，230元，第3小時"
    assert unsupported_facts("撥07-1234567轉210，1,230元，第3小時", source) == []
    assert unsupported_facts("撥07-1234568，每次2,230元", source) == ["071234568", "2230"]


def test_the_knowledge_base_has_at_least_200_entries() -> None:
    assert len(ENTRIES) >= MIN_ENTRIES, f"{len(ENTRIES)} entries in {CONTENT}, want {MIN_ENTRIES}"


def test_every_entry_is_a_valid_faq_record() -> None:
    errors: list[str] = []
    for entry in ENTRIES:
        try:
            FaqRecord.model_validate(entry)
        except ValueError as error:
            errors.append(f"{entry.get('id')}: {error}")
    assert errors == []


def test_ids_and_questions_are_unique() -> None:
    repeated_ids = [key for key, count in Counter(ENTRY_IDS).items() if count > 1]
    keys = Counter(question_key(str(entry["question"])) for entry in ENTRIES)
    repeated_questions = [key for key, count in keys.items() if count > 1]
    assert repeated_ids == []
    assert repeated_questions == []


@pytest.mark.parametrize("entry", ENTRIES, ids=ENTRY_IDS)
def test_entry_is_complete(entry: dict[str, Any]) -> None:
    assert len(entry.get("alt_questions", [])) >= 2, "needs at least 2 alternative questions"
    assert 0 < len(entry["answer"]) <= MAX_ANSWER
    for field in ("agency", "category", "keywords", "sources", "revise_date"):
        assert entry.get(field), f"empty {field}"
    assert entry["category"] in CATEGORIES
    assert entry.get("status", "published") == "published"


@pytest.mark.parametrize("entry", ENTRIES, ids=ENTRY_IDS)
def test_answer_ends_with_where_to_go_next(entry: dict[str, Any]) -> None:
    sentences = [part for part in re.split(r"[。！？!?]", entry["answer"]) if part.strip()]
    assert sentences, "empty answer"
    assert NEXT_STEP.search(sentences[-1]), f"last sentence names no agency, phone or site: {sentences[-1]}"


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_domain_is_covered(category: str) -> None:
    count = sum(1 for entry in ENTRIES if entry.get("category") == category)
    assert count >= MIN_PER_CATEGORY, f"{category}: {count} entries, want {MIN_PER_CATEGORY}"


@pytest.mark.shared_data
def test_cited_sources_exist(city: dict[str, dict[str, Any]]) -> None:
    unknown = [
        f"{entry['id']}: {source}"
        for entry in ENTRIES
        for source in entry.get("sources", [])
        if not str(source).startswith("http") and source not in city
    ]
    assert unknown == []


def _cited_text(entry: dict[str, Any], city: dict[str, dict[str, Any]]) -> str:
    parts: list[str] = []
    for source in entry.get("sources", []):
        if source in city:
            parts += [str(city[source]["question"]), str(city[source]["answer"])]
        elif str(source).startswith("http"):
            # An official page URL cited as a source: it must appear in a cited entry,
            # and it may then be quoted itself.
            parts.append(str(source))
    return "\n".join(parts)


@pytest.mark.shared_data
def test_every_fact_in_an_answer_is_in_a_cited_entry(city: dict[str, dict[str, Any]]) -> None:
    problems = {}
    for entry in ENTRIES:
        missing = unsupported_facts(entry["answer"], _cited_text(entry, city))
        if missing:
            problems[entry["id"]] = missing
    assert problems == {}


@pytest.mark.shared_data
def test_cited_urls_appear_in_a_cited_entry(city: dict[str, dict[str, Any]]) -> None:
    for entry in ENTRIES:
        urls = [source for source in entry.get("sources", []) if str(source).startswith("http")]
        cited = _squash(" ".join(str(city[s]["answer"]) for s in entry["sources"] if s in city))
        for url in urls:
            assert _squash(url).split("//", 1)[-1] in cited, f"{entry['id']}: {url}"


@pytest.mark.shared_data
def test_nothing_is_copied_from_the_city_faq(city: dict[str, dict[str, Any]]) -> None:
    windows: set[str] = set()
    for row in city.values():
        text = _squash(str(row["answer"]))
        windows.update(text[i : i + WINDOW] for i in range(len(text) - WINDOW + 1))
    copied: dict[str, str] = {}
    for entry in ENTRIES:
        for field in (entry["answer"], entry["question"], *entry.get("alt_questions", [])):
            text = _squash(str(field))
            hit = next(
                (
                    text[i : i + WINDOW]
                    for i in range(len(text) - WINDOW + 1)
                    if text[i : i + WINDOW] in windows
                ),
                None,
            )
            if hit:
                copied[str(entry["id"])] = hit
                break
    assert copied == {}


def _queries() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(QUERIES.glob("content_queries_*.jsonl")):
        rows.extend(_read_jsonl(path))
    return rows


def test_evaluation_queries_are_well_formed_and_point_at_existing_entries() -> None:
    queries = _queries()
    known = set(ENTRY_IDS)
    problems: list[str] = []
    for query in queries:
        text, gold = query.get("query"), query.get("gold")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"empty query: {query}")
        elif gold is None:
            if query.get("kind") not in OUT_OF_SCOPE_KINDS:
                problems.append(f"out-of-scope query without a known kind: {text}")
        elif not isinstance(gold, list) or not gold:
            problems.append(f"gold must be a non-empty list or null: {text}")
        else:
            problems += [f"{text}: unknown id {item}" for item in gold if item not in known]
            if query.get("style") not in QUERY_STYLES:
                problems.append(f"unknown style {query.get('style')!r}: {text}")
    assert problems == []
    texts = Counter(str(query.get("query")) for query in queries)
    assert [text for text, count in texts.items() if count > 1] == []


def test_there_are_at_least_150_in_scope_queries() -> None:
    in_scope = sum(1 for query in _queries() if query.get("gold") is not None)
    assert in_scope >= MIN_IN_SCOPE_QUERIES, f"{in_scope} in-scope queries, want {MIN_IN_SCOPE_QUERIES}"
