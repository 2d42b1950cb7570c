"""Taipei's open-data FAQ XML (「市政網站整合平台之常見問答」): ``<data>`` elements.

``data_id`` is the record id as published, ``news_title`` the question, ``news_content``
the answer in HTML, ``deptName`` the agency, ``news_class`` the category code,
``keyword`` comma-separated keywords, ``post_date`` a date with a time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405 - parsing a local file the operator chose
from collections.abc import Iterator
from pathlib import Path

from knowledge.importers._base import ImportError_, Rejected, Row, to_record

__all__ = ["read_taipei_xml"]

_FIELDS = {
    "data_id": "id",
    "news_title": "question",
    "news_content": "answer",
    "deptName": "agency",
    "news_class": "category",
    "keyword": "keywords",
    "post_date": "post_date",
}


def read_taipei_xml(path: Path) -> Iterator[Row]:
    number = 0
    try:
        for _event, element in ET.iterparse(path, events=("end",)):  # noqa: S314
            if element.tag != "data":
                continue
            number += 1
            data = {field: (element.findtext(tag) or "").strip() for tag, field in _FIELDS.items()}
            element.clear()
            yield to_record(f"record {number}", {k: v for k, v in data.items() if v})
    except ET.ParseError as error:
        if number == 0:
            raise ImportError_(f"not well-formed XML: {error}") from None
        yield Rejected(f"record {number + 1}", f"XML broken from here on, reading stopped: {error}")
