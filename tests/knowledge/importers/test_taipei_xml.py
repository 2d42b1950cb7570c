from datetime import date
from pathlib import Path

import pytest

from knowledge.importers import ImportError_, Parsed, Rejected, read

RECORD = """<data><deptName>{dept}</deptName><data_id>{id}</data_id><post_date>2016-02-03 00:00:00</post_date>
<news_title>{title}</news_title><news_content>{content}</news_content><keyword>停車,罰單</keyword>
<news_class>4000002a</news_class></data>"""


def _xml(*records: str, tail: str = "</datas></xmlmessage>") -> str:
    return '<?xml version="1.0" encoding="UTF-8"?><xmlmessage><datas>' + "".join(records) + tail


def _record(rid: str, title: str, content: str) -> str:
    return RECORD.format(dept="交通局", id=rid, title=title, content=content)


def test_records_and_their_problems(tmp_path: Path) -> None:
    path = tmp_path / "tp.xml"
    path.write_text(
        _xml(
            _record("GIP_1", "違規停車如何繳費？", "&lt;p&gt;可至超商繳納。&lt;/p&gt;"),
            _record("GIP_2", "只有連結", '&lt;a href=""&gt;&lt;/a&gt;'),
            _record("GIP_3", "空白答案", ""),
            _record("GIP_4", "清單", '&lt;a href="https://tp.example/list"&gt;常見問題清單&lt;/a&gt;'),
        ),
        encoding="utf-8",
    )
    rows = list(read(path))
    assert [(r.where, type(r).__name__) for r in rows] == [
        ("record 1", "Parsed"),
        ("record 2", "Rejected"),
        ("record 3", "Rejected"),
        ("record 4", "Parsed"),
    ]
    first = rows[0]
    assert isinstance(first, Parsed)
    assert first.record.id == "GIP_1"
    assert first.record.answer == "可至超商繳納。"
    assert first.record.agency == "交通局"
    assert first.record.keywords == ["停車", "罰單"]
    assert first.record.post_date == date(2016, 2, 3)
    assert isinstance(rows[1], Rejected)
    assert "only" in rows[1].reason


def test_xml_broken_midway_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "tp.xml"
    path.write_text(_xml(_record("GIP_1", "問題", "答案"), tail="<data><news_title>斷"), encoding="utf-8")
    rows = list(read(path))
    assert isinstance(rows[0], Parsed)
    assert isinstance(rows[-1], Rejected)
    assert rows[-1].where == "record 2"


def test_not_xml_at_all(tmp_path: Path) -> None:
    (tmp_path / "tp.xml").write_text("this is not xml", encoding="utf-8")
    with pytest.raises(ImportError_, match="XML"):
        list(read(tmp_path / "tp.xml"))
