"""An import's report in the console's language: where a row was, why it was not imported,
the summary and the file-level errors, from the importers' plain English (which the CLI prints).

An unknown reason keeps its English after a Chinese lead, so nothing a person needs is lost.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from knowledge.importers import RAW_CELL, ROW_FIELDS

__all__ = ["COLUMN_NAMES", "file_error", "reason", "summary", "where"]

# The CSV importer's Chinese column names (knowledge/importers/tabular.py reads them back).
COLUMN_NAMES = {
    "id": "編號",
    "question": "問題",
    "answer": "答案",
    "alt_questions": "相似問法",
    "agency": "機關",
    "category": "類別",
    "keywords": "關鍵字",
    "source_url": "網址",
    "sources": "出處",
    "post_date": "發布日期",
    "revise_date": "修訂日期",
    "status": "狀態",
    RAW_CELL: "原文",
}
assert set(ROW_FIELDS) < set(COLUMN_NAMES)  # noqa: S101 - a new field needs its column name

_WHERE = re.compile(r"^(?P<file>.*?)\s*(?P<unit>line|row|record) (?P<n>\d+)$")
_UNITS = {"line": "行", "row": "列", "record": "筆"}


def where(text: str) -> str:
    """``line 12`` → 第 12 行; ``faq.csv row 3`` → faq.csv 第 3 列."""
    match = _WHERE.match(text)
    if match is None:
        return text
    place = f"第 {match['n']} {_UNITS[match['unit']]}"
    return f"{match['file']} {place}" if match["file"] else place


_FIELD_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^missing or empty$"), "缺少或空白"),
    (re.compile(r"^String should have at most (\d+) characters?$"), r"超過 \1 個字"),
    (re.compile(r"^String should match pattern .*$"), "格式不符（只能用英文字母、數字和 . _ : -）"),
    (re.compile(r"^Input should be .*$"), "不是可接受的值"),
    (re.compile(r"^Value error, alternative question longer than (\d+) characters$"), r"有一個超過 \1 個字"),
    (re.compile(r"^Value error, .*date.*$", re.IGNORECASE), "不是可讀的日期"),
]

_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^not valid UTF-8 \(byte (\d+)\)$"), r"不是有效的 UTF-8 文字（第 \1 個位元組）"),
    (re.compile(r"^not valid UTF-8$"), "不是有效的 UTF-8 文字"),
    (re.compile(r"^bad JSON: .* at column (\d+)$"), r"JSON 格式錯誤（第 \1 個字元）"),
    (re.compile(r"^not a JSON object$"), "不是 JSON 物件（每一行要是一個 {…}）"),
    (re.compile(r"^(\d+) cells but the header has (\d+) columns$"), r"這一列有 \1 格，但標題列只有 \2 欄"),
    (re.compile(r"^answer: only an empty link$"), "答案只有一個空的連結"),
    (re.compile(r"^answer: only HTML markup, no text$"), "答案只有 HTML 標記，沒有文字"),
    (re.compile(r"^answer: only a bare link, no text$"), "答案只有網址，沒有說明文字"),
    (re.compile(r"^answer: no text$"), "答案沒有文字"),
    (re.compile(r"^XML broken from here on, reading stopped: .*$"), "XML 從這裡起損毀，已停止讀取"),
]
_ID_GIVEN = re.compile(r"^id (?P<id>\S+) already given at (?P<where>.+)$")


def _field_problem(part: str) -> str:
    name, _, message = part.partition(": ")
    field = COLUMN_NAMES.get(name.split(".")[0], "")
    if not field:
        return ""
    for pattern, text in _FIELD_MESSAGES:
        if pattern.match(message):
            return f"{field}{pattern.sub(text, message)}"
    return f"{field}格式不正確"


def reason(text: str) -> str:
    """Why a row was not imported, in Chinese."""
    for pattern, replacement in _REASONS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    given = _ID_GIVEN.match(text)
    if given:
        return f"編號 {given['id']} 在{where(given['where'])}已經出現過"
    problems = [_field_problem(part) for part in text.split("; ")]
    if problems and all(problems):
        return "；".join(problems)
    return f"無法匯入（{text}）"


def summary(report: Mapping[str, Any]) -> str:
    """The import report's counts in one sentence (the console's stored report)."""
    rejected = len(report.get("rejected", []))
    duplicates = len(report.get("duplicates", []))
    counts = [report.get(key, 0) for key in ("imported", "updated", "unchanged", "merged")]
    conflicts, held = report.get("conflicts", 0), report.get("held", 0)
    rows = sum(counts) + conflicts + held + rejected
    text = f"共 {rows} 列：新增 {counts[0]}、更新 {counts[1]}、未變更 {counts[2]}、合併 {counts[3]}、"
    if conflicts or held:
        text += f"與同仁修改衝突 {conflicts}、暫緩待審 {held}、"
    text += f"未匯入 {rejected}；與既有題目相同的問題 {duplicates} 題"
    if duplicates and not counts[3]:
        text += "（未合併；勾選「合併為該題的其他問法」再匯入即可併入）"
    if conflicts or held:
        text += f"；{conflicts + held} 題待「來源更新」審核，同仁改過的內容在審核前保持不變"
    if not (counts[0] or counts[1] or report.get("kb_version")):
        text += "，知識庫沒有變更"
    return text


_FILE_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^header row lacks the column\(s\) (.+?); found .*$"), r"標題列缺少欄位：\1"),
    (re.compile(r"^the file is empty \(no header row\)$"), "檔案是空的（沒有標題列）"),
    (re.compile(r"^the sheet is empty \(no header row\)$"), "工作表是空的（沒有標題列）"),
    (re.compile(r"^cannot read the header row: .*$"), "無法讀取標題列"),
    (re.compile(r"^row (\d+): .*$"), r"第 \1 列無法讀取"),
    (re.compile(r"^not a readable XLSX workbook: .*$"), "不是可讀取的 XLSX 活頁簿"),
    (re.compile(r"^not well-formed XML: .*$"), "不是格式正確的 XML"),
    (re.compile(r"^cannot tell the format of .*$"), "無法從檔名判斷格式，請選擇格式"),
]


def file_error(text: str) -> str:
    """Why a whole file could not be read, in Chinese (the English kept when unknown)."""
    for pattern, replacement in _FILE_ERRORS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text
