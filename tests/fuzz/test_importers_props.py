"""Properties of the importers (knowledge.importers) on generated files.

Whatever a file holds, an importer never crashes: it yields each row as parsed or rejected
(with a reason a person can act on), or refuses the whole file with ``ImportError_`` and a
message. Every valid entry written in any format is read back exactly as it was written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from knowledge.faq import FaqRecord, FaqStatus
from knowledge.importers import FORMATS, ImportError_, Parsed, Rejected, Row, read, to_record
from knowledge.normalize import clean_text

_SAME = {  # the same examples on every run; BOT1999_FUZZ_RANDOM=1 explores new ones
    "deadline": None,
    "derandomize": not os.environ.get("BOT1999_FUZZ_RANDOM"),
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow],
}
BUDGET = settings(max_examples=60, **_SAME)
SLOW_BUDGET = settings(max_examples=20, **_SAME)  # XLSX files are slow to write and read

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
WORD = st.one_of(CJK, st.characters(categories=["Lu", "Ll", "Nd"], max_codepoint=0x7F))
SAFE_PUNCT = st.sampled_from(list("？，。、！ （）"))


def _text(alphabet: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    """Text that is already clean (as the record stores it) and starts with a word character."""
    return st.builds(lambda head, rest: clean_text(head + rest), WORD, st.text(alphabet, max_size=max_size))


PHRASE = _text(st.one_of(WORD, SAFE_PUNCT), 40)
LABEL = _text(WORD, 12)  # keywords, agency, category: no separators inside


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


RECORDS = st.builds(
    FaqRecord,
    id=st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._:\-]{0,20}\Z"),
    question=PHRASE,
    answer=_text(st.one_of(WORD, SAFE_PUNCT, st.just("\n")), 120),
    alt_questions=st.lists(PHRASE, max_size=3).map(_unique),
    agency=st.one_of(st.just(""), LABEL),
    category=st.one_of(st.just(""), LABEL),
    keywords=st.lists(LABEL, max_size=4).map(_unique),
    source_url=st.one_of(st.just(""), st.from_regex(r"\Ahttps://www\.example\.gov\.tw/faq/[a-z0-9]{1,8}\Z")),
    sources=st.lists(st.from_regex(r"\AKHH-[0-9]{1,6}-[0-9]{1,3}\Z"), max_size=2).map(_unique),
    post_date=st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2035, 12, 31))),
    revise_date=st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2035, 12, 31))),
    status=st.sampled_from(list(FaqStatus)),
)
FILES = st.lists(RECORDS, min_size=1, max_size=5, unique_by=lambda r: r.id)
COLUMNS = ["id", "question", "answer", "alt_questions", "agency", "category", "keywords"]
COLUMNS += ["source_url", "sources", "post_date", "revise_date", "status"]


@contextmanager
def a_file(name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / name


def _cells(record: FaqRecord) -> list[str]:
    data = record.model_dump(mode="json")
    data["alt_questions"] = "\n".join(record.alt_questions)
    data["keywords"] = ",".join(record.keywords)
    data["sources"] = ",".join(record.sources)
    return ["" if data[name] is None else str(data[name]) for name in COLUMNS]


def write_jsonl(path: Path, records: list[FaqRecord]) -> None:
    lines = [json.dumps(r.model_dump(mode="json"), ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(path: Path, records: list[FaqRecord]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(_cells(r) for r in records)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")


def write_xlsx(path: Path, records: list[FaqRecord]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    for record in records:
        sheet.append(_cells(record))
    workbook.save(path)


WRITERS: dict[str, Callable[[Path, list[FaqRecord]], None]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "xlsx": write_xlsx,
}


def _round_trip(fmt: str, records: list[FaqRecord]) -> None:
    with a_file(f"kb.{fmt}") as path:
        WRITERS[fmt](path, records)
        rows = list(read(path))
    assert all(isinstance(row, Parsed) for row in rows), [r for r in rows if isinstance(r, Rejected)]
    assert [row.record for row in rows if isinstance(row, Parsed)] == records


@BUDGET
@given(FILES)
def test_jsonl_round_trips_every_valid_entry(records: list[FaqRecord]) -> None:
    _round_trip("jsonl", records)


@BUDGET
@given(FILES)
def test_csv_round_trips_every_valid_entry(records: list[FaqRecord]) -> None:
    _round_trip("csv", records)


@SLOW_BUDGET
@given(FILES)
def test_xlsx_round_trips_every_valid_entry(records: list[FaqRecord]) -> None:
    _round_trip("xlsx", records)


@BUDGET
@given(FILES)
def test_taipei_xml_round_trips_what_it_carries(records: list[FaqRecord]) -> None:
    root = ET.Element("xmlmessage")
    datas = ET.SubElement(root, "datas")
    for record in records:
        data = ET.SubElement(datas, "data")
        fields = {"data_id": record.id, "news_title": record.question, "news_content": record.answer}
        fields |= {
            "deptName": record.agency,
            "news_class": record.category,
            "keyword": ",".join(record.keywords),
        }
        fields["post_date"] = f"{record.post_date} 00:00:00" if record.post_date else ""
        for tag, value in fields.items():
            ET.SubElement(data, tag).text = value
    with a_file("kb.xml") as path:
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
        rows = list(read(path))
    carried = ("id", "question", "answer", "agency", "category", "keywords", "post_date")
    expected = [FaqRecord.model_validate(r.model_dump(include=set(carried))) for r in records]
    assert [row.record for row in rows if isinstance(row, Parsed)] == expected


def _check(rows: list[Row], count: int | None = None) -> None:
    for row in rows:
        assert isinstance(row, Parsed | Rejected)
        assert row.where
        if isinstance(row, Rejected):
            assert row.reason.strip(), f"{row.where} rejected without a reason"
    if count is not None:
        assert len(rows) == count


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
ROW_DICTS = st.dictionaries(
    st.sampled_from([*COLUMNS, "organ_no", "seq_no", "url", "issue_kind"]), JSON_VALUES
)


@BUDGET
@given(ROW_DICTS)
def test_any_mapping_is_parsed_or_rejected_with_a_reason(data: dict[str, Any]) -> None:
    _check([to_record("row 2", data)])


@BUDGET
@given(
    st.lists(st.one_of(st.binary(max_size=60), ROW_DICTS.map(lambda d: json.dumps(d).encode())), max_size=8)
)
def test_jsonl_never_crashes_and_answers_for_every_line(lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    with a_file("kb.jsonl") as path:
        path.write_bytes(b"\n".join(lines))
        rows = list(read(path))
    _check(rows, count=sum(1 for line in lines if _blank(line) is False))


def _blank(line: bytes) -> bool:
    """A line the importer skips: blank once decoded (any Unicode space); undecodable is not blank."""
    try:
        return not line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


def _read_or_refuse(path: Path) -> list[Row] | None:
    """The rows, or None when the whole file is refused (with a reason)."""
    try:
        return list(read(path))
    except ImportError_ as error:
        reason = str(error)
    assert reason.strip(), "a refused file is refused with a reason"
    return None


@BUDGET
@given(st.binary(max_size=300))
def test_csv_never_crashes(body: bytes) -> None:
    with a_file("kb.csv") as path:
        path.write_bytes(b"id,question,answer\n" + body)
        rows = _read_or_refuse(path)
    if rows is not None:
        _check(rows)


CELLS = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(),
    st.text(st.characters(exclude_categories=["Cc", "Cs"]), max_size=20).filter(
        lambda t: not t.startswith("=")
    ),
)


@SLOW_BUDGET
@given(st.lists(st.lists(CELLS, max_size=len(COLUMNS) + 2), max_size=5))
def test_xlsx_never_crashes_on_any_cells(table: list[list[Any]]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(COLUMNS)
    for cells in table:
        sheet.append(cells)
    with a_file("kb.xlsx") as path:
        workbook.save(path)
        rows = _read_or_refuse(path)
    assert rows is not None, "a sheet with the right header is always read"
    _check(rows)


@BUDGET
@given(
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda t: f"<datas><data>{t}</data></datas>".encode()),
    )
)
def test_taipei_xml_never_crashes(body: bytes) -> None:
    with a_file("kb.xml") as path:
        path.write_bytes(body)
        rows = _read_or_refuse(path)
    if rows is not None:
        _check(rows)


def test_every_format_is_covered() -> None:
    assert set(FORMATS) == {*WRITERS, "taipei-xml"}
