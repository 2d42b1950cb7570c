from datetime import date

import pytest
from pydantic import ValidationError

from knowledge.faq import FaqRecord, FaqStatus, parse_date
from tests.factories import faq


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20240131", date(2024, 1, 31)),
        ("2024-01-31", date(2024, 1, 31)),
        ("2015-01-06 00:00:00", date(2015, 1, 6)),
        ("2015/01/06", date(2015, 1, 6)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date_accepts_the_formats_of_the_sources(text: str | None, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2024-13-01", "yesterday", "202401"])
def test_parse_date_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(text)


def test_lists_come_from_lists_or_delimited_strings() -> None:
    record = faq(
        keywords="垃圾，清運、 大型垃圾,垃圾", alt_questions="舊沙發怎麼丟？\n床墊，衣櫃怎麼丟|舊沙發怎麼丟？"
    )
    assert record.keywords == ["垃圾", "清運", "大型垃圾"]
    # questions keep their commas; only line breaks and | separate them
    assert record.alt_questions == ["舊沙發怎麼丟？", "床墊，衣櫃怎麼丟"]


def test_text_is_tidied_but_keeps_its_meaning() -> None:
    record = faq(question="  大型垃圾\u200b要怎麼\t\t預約？ ", answer="第一段\r\n\r\n\r\n\r\n第二段")
    assert record.question == "大型垃圾要怎麼 預約？"
    assert record.answer == "第一段\n\n第二段"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("question", "", "question"),
        ("answer", "   ", "answer"),
        ("id", "has space", "id"),
        ("status", "live", "status"),
        ("revise_date", "31/31/2024", "revise_date"),
    ],
)
def test_invalid_fields_are_named(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        faq(**{field: value})


def test_content_hash_changes_with_content_only() -> None:
    a, b = faq("A-1"), faq("B-2")
    assert a.content_hash() == b.content_hash()
    assert faq("A-1", answer="另一個答案").content_hash() != a.content_hash()
    assert faq("A-1", status=FaqStatus.DRAFT).content_hash() != a.content_hash()


def test_unknown_fields_of_a_harvest_are_ignored() -> None:
    record = FaqRecord.model_validate({"id": "X-1", "question": "問", "answer": "答", "view_count": "12"})
    assert record.status is FaqStatus.PUBLISHED
    assert record.texts() == ["問"]
