import json
from pathlib import Path

from knowledge.importers import Parsed, Rejected, read


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _line(**obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def test_good_and_bad_lines_are_each_accounted_for(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "kb.jsonl",
        [
            _line(id="A-1", question="路燈不亮怎麼報修？", answer="請撥1999或上網通報。"),
            b'{"id": "A-2", "question": "broken json"',
            _line(id="A-3", question="", answer="沒有問題的答案"),
            "無效的編碼".encode("big5"),
            b"",
            _line(id="A-4", question="只有連結", answer='<a href="">按這裡</a>'),
            _line(id="A-5", question="只有標籤", answer="<p><br></p>"),
            b"[1, 2]",
            _line(
                organ_no="397000000A",
                seq_no=7,
                question="垃圾車幾點來？",
                answer="依各區清運時刻表。",
                issue_kind="環保",
            ),
        ],
    )
    rows = list(read(path))
    assert [(r.where, type(r).__name__) for r in rows] == [
        ("line 1", "Parsed"),
        ("line 2", "Rejected"),
        ("line 3", "Rejected"),
        ("line 4", "Rejected"),
        ("line 6", "Rejected"),
        ("line 7", "Rejected"),
        ("line 8", "Rejected"),
        ("line 9", "Parsed"),
    ]
    reasons = {r.where: r.reason for r in rows if isinstance(r, Rejected)}
    assert reasons["line 2"].startswith("bad JSON")
    assert reasons["line 3"] == "question: missing or empty"
    assert reasons["line 4"].startswith("not valid UTF-8")
    assert reasons["line 6"] == "answer: only an empty link"
    assert reasons["line 7"] == "answer: only HTML markup, no text"
    assert reasons["line 8"] == "not a JSON object"
    harvested = rows[-1]
    assert isinstance(harvested, Parsed)
    assert harvested.record.id == "KHH-397000000A-7"
    assert harvested.record.category == "環保"


def test_broken_encoding_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "kb.jsonl", ["無效".encode("big5")])
    (row,) = read(path)
    assert isinstance(row, Rejected)
    assert row.reason.startswith("not valid UTF-8")
