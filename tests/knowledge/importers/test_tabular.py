from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from knowledge.importers import ImportError_, Parsed, Rejected, read

HEADER = ["編號", "問題", "答案", "相似問法", "機關", "關鍵字", "修訂日期"]
GOOD = [
    "C-1",
    "狗吠擾人怎麼辦？",
    "可向環保局陳情。",
    "鄰居的狗一直叫\n狗叫很吵",
    "環境保護局",
    "噪音,狗",
    "2025-03-04",
]


def test_csv_rows_are_numbered_as_a_spreadsheet_shows_them(tmp_path: Path) -> None:
    path = tmp_path / "kb.csv"
    lines = [
        ",".join(HEADER),
        ",".join(f'"{c}"' for c in GOOD),
        "C-2,,沒有問題,,,,",
        "C-3,有問題,,,,,",
        ",,,,,,",
    ]
    path.write_text("\n".join(lines), encoding="utf-8-sig")
    rows = list(read(path))
    assert [(r.where, type(r).__name__) for r in rows] == [
        ("row 3", "Parsed"),
        ("row 4", "Rejected"),
        ("row 5", "Rejected"),
    ]
    first = rows[0]
    assert isinstance(first, Parsed)
    assert first.record.alt_questions == ["鄰居的狗一直叫", "狗叫很吵"]
    assert first.record.keywords == ["噪音", "狗"]
    assert first.record.revise_date == date(2025, 3, 4)


def test_csv_with_broken_encoding_keeps_the_good_rows(tmp_path: Path) -> None:
    body = (",".join(HEADER) + "\n" + ",".join(GOOD[:3]) + ",,,,\n").encode()
    body += "C-9,壞掉的編碼,答案,,,,\n".encode("big5")
    (tmp_path / "kb.csv").write_bytes(body)
    rows = list(read(tmp_path / "kb.csv"))
    assert isinstance(rows[0], Parsed)
    assert isinstance(rows[1], Rejected)
    assert rows[1].reason == "not valid UTF-8"


def test_a_header_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kb.csv").write_text("name,text\nA,B\n", encoding="utf-8")
    with pytest.raises(ImportError_, match="question"):
        list(read(tmp_path / "kb.csv"))


def test_xlsx_with_dates_and_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "question", "answer", "revise_date", "keywords"])
    sheet.append(["X-1", "房屋稅何時繳？", "每年五月繳納。", date(2024, 5, 1), "房屋稅"])
    sheet.append([2, "數字編號也可以嗎？", "可以。", None, None])
    sheet.append(["X-3", None, "少了問題", None, None])
    book.save(tmp_path / "kb.xlsx")
    rows = list(read(tmp_path / "kb.xlsx"))
    assert [(r.where, type(r).__name__) for r in rows] == [
        ("row 2", "Parsed"),
        ("row 3", "Parsed"),
        ("row 4", "Rejected"),
    ]
    assert isinstance(rows[0], Parsed)
    assert rows[0].record.revise_date == date(2024, 5, 1)
    assert isinstance(rows[1], Parsed)
    assert rows[1].record.id == "2"


def test_a_damaged_xlsx_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "kb.xlsx").write_bytes(b"not a zip file")
    with pytest.raises(ImportError_, match="XLSX"):
        list(read(tmp_path / "kb.xlsx"))


def test_unknown_extension_needs_a_format(tmp_path: Path) -> None:
    (tmp_path / "kb.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ImportError_, match="--format"):
        list(read(tmp_path / "kb.txt"))
