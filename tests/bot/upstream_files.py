"""An upstream FAQ file in each format the importers read (JSONL, CSV, XLSX, Taipei XML), and
the two snapshots of it the tests import: the first, then one where the source changed.

Text written for the tests (never taken from ../shared/data).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

__all__ = ["FIRST", "FORMATS", "OURS", "SECOND", "Entry", "file_bytes", "write"]

Entry = dict[str, str]  # id, question, answer, agency, category
COLUMNS = ("id", "question", "answer", "agency", "category")
FORMATS = {"jsonl": ".jsonl", "csv": ".csv", "xlsx": ".xlsx", "taipei-xml": ".xml"}

FIRST: list[Entry] = [
    {
        "id": "U-1",
        "question": "公園的路燈壞了怎麼辦？",
        "answer": "請通報工務局公園處。",
        "agency": "工務局",
        "category": "路燈",
    },
    {
        "id": "U-2",
        "question": "狗狗走失了要找誰？",
        "answer": "請聯絡動物保護處協尋。",
        "agency": "農業局",
        "category": "動物",
    },
    {
        "id": "U-3",
        "question": "自來水停水什麼時候恢復？",
        "answer": "請查詢自來水公司公告。",
        "agency": "水利局",
        "category": "水電",
    },
]
# what staff wrote over U-1's answer
OURS = "公園路燈故障請撥 1999，我們會派人修理，並在三天內回覆。"
# the source later: U-1's answer changed (staff overrode it: a conflict), U-2's answer changed
# (nobody touched it: applied, or held with upstream_changes = review), U-3 the same, U-4 new.
SECOND: list[Entry] = [
    {**FIRST[0], "answer": "公園路燈故障請上網通報，工務局將於五日內修復。"},
    {**FIRST[1], "answer": "請撥動物保護處專線協尋走失的寵物。"},
    FIRST[2],
    {
        "id": "U-4",
        "question": "颱風天垃圾車會來嗎？",
        "answer": "颱風警報期間暫停收運。",
        "agency": "環境保護局",
        "category": "垃圾",
    },
]


def file_bytes(fmt: str, entries: list[Entry]) -> bytes:
    if fmt == "jsonl":
        return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["編號", "問題", "答案", "機關", "類別"])
        writer.writerows([[e[c] for c in COLUMNS] for e in entries])
        return out.getvalue().encode("utf-8")
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(COLUMNS))
        for e in entries:
            sheet.append([e[c] for c in COLUMNS])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    if fmt == "taipei-xml":
        tags = {"id": "data_id", "question": "news_title", "answer": "news_content", "agency": "deptName"}
        tags["category"] = "news_class"
        records = "".join(
            "<data>" + "".join(f"<{tags[c]}>{escape(e[c])}</{tags[c]}>" for c in COLUMNS) + "</data>"
            for e in entries
        )
        return f'<?xml version="1.0" encoding="UTF-8"?><root>{records}</root>'.encode()
    raise ValueError(fmt)


def write(folder: Path, name: str, fmt: str, entries: list[Entry]) -> Path:
    path = folder / f"{name}{FORMATS[fmt]}"
    path.write_bytes(file_bytes(fmt, entries))
    return path
