"""The real harvests in ../shared/data: every row is accounted for."""

import re
from pathlib import Path

import pytest

from knowledge.importers import Parsed, Rejected, read

pytestmark = pytest.mark.shared_data


def test_every_kaohsiung_row_is_read(shared_data: Path) -> None:
    rows = list(read(shared_data / "kaohsiung_faq.jsonl"))
    assert len(rows) == 1427
    assert all(isinstance(r, Parsed) for r in rows)
    assert len({r.record.id for r in rows if isinstance(r, Parsed)}) == 1427


def test_every_taipei_record_is_read_and_the_empty_ones_named(shared_data: Path) -> None:
    rows = list(read(shared_data / "taipei_faq_2017.xml"))
    assert len(rows) == 1877
    rejected = [r for r in rows if isinstance(r, Rejected)]
    assert rejected, "the Taipei set has records without an answer"
    assert all(r.where.startswith("record ") and r.reason for r in rejected)
    tag = re.compile(r"</?(p|a|br|div|span|table|td|tr|li|ul|strong|font)\b", re.IGNORECASE)
    assert not [r.where for r in rows if isinstance(r, Parsed) and tag.search(r.record.answer)]
