"""Importing from the console (progress, report, rejected rows) and the duplicate finder."""

import csv
import io
import json

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from bot.console.duplicates import bigram_set, content_key, dice, near_duplicates, same_content
from bot.store import Database
from bot.store.models import AuditRow, FaqRow
from tests.bot.console.client import login_as
from tests.waiting import eventually


def _db(client: TestClient) -> Database:
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return database


def _finish(client: TestClient, job_url: str) -> dict[str, object]:
    job_id = job_url.rsplit("/", 1)[1]

    def finished() -> dict[str, object] | None:
        status = client.get(f"/console/api/kb/import/{job_id}").json()
        return dict(status) if status["finished"] else None

    return eventually(finished, what=f"import job {job_id} to finish")


def _upload(client: TestClient, name: str, content: bytes, **fields: str) -> str:
    response = client.post(
        "/console/kb/import", files={"file": (name, content)}, data=fields, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def test_a_csv_import_reports_progress_and_every_rejected_row(console: TestClient) -> None:
    csrf = login_as(console, "staff", "amy")
    console.headers.pop("X-CSRF-Token")  # a browser sends the token as a form field
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["編號", "問題", "答案", "相似問法", "機關"])
    writer.writerow(["I-1", "路邊停車怎麼繳費？", "可用超商或APP繳納。", "停車費|停車單", "交通局"])
    writer.writerow(["I-2", "", "沒有問題的一列", "", ""])
    writer.writerow(["I-3", "公園可以遛狗嗎？", "請繫狗鍊並清理排泄物。", "", "工務局"])
    writer.writerow(["I-1", "重複的編號", "再一次", "", ""])
    content = out.getvalue().encode("utf-8")
    forged = console.post(
        "/console/kb/import", files={"file": ("faq.csv", content)}, data={"csrf_token": "x"}
    )
    assert forged.status_code == 403
    job = _upload(console, "faq.csv", content, csrf_token=csrf)
    page = console.get(job)
    assert page.status_code == 200
    status = _finish(console, job)
    assert (status["status"], status["total"], status["done"]) == ("done", 4, 4)
    report = console.get(job).text
    assert "匯入完成" in report
    assert "第 3 列" in report
    assert "問題缺少或空白" in report
    assert "第 5 列" in report
    assert "編號 I-1 在第 2 列已經出現過" in report
    assert "重複的編號" in report  # the rejected row's own content is on the page
    rejected = console.get(f"{job}/rejected.csv")
    assert rejected.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(rejected.text.lstrip("\ufeff"))))
    assert [(r["位置"], r["編號"], r["問題"], r["答案"]) for r in rows] == [
        ("第 3 列", "I-2", "", "沒有問題的一列"),
        ("第 5 列", "I-1", "重複的編號", "再一次"),
    ]
    with _db(console).session() as session:
        assert session.get(FaqRow, "I-1") is not None
        assert session.get(FaqRow, "I-3") is not None
        audit = [a.action for a in session.scalars(select(AuditRow).where(AuditRow.actor == "amy"))]
    assert {"kb.import.start", "kb.import"} <= set(audit)
    assert "faq.csv" in console.get("/console/kb/import").text  # listed among recent imports

    # Staff fix the rejected rows in the downloaded file and import it again, as it is.
    rows[0]["問題"] = "沒有問題的一列要問什麼？"
    rows[1]["編號"] = "I-4"
    fixed = io.StringIO()
    writer = csv.DictWriter(fixed, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    again = _finish(console, _upload(console, "fixed.csv", fixed.getvalue().encode("utf-8"), csrf_token=csrf))
    assert again["status"] == "done"
    with _db(console).session() as session:
        assert session.get(FaqRow, "I-2").question == "沒有問題的一列要問什麼？"
        assert session.get(FaqRow, "I-4").answer == "再一次"


def test_a_jsonl_line_that_is_no_record_is_kept_in_the_report(console: TestClient) -> None:
    login_as(console, "staff")
    good = json.dumps({"id": "J-9", "question": "機車停哪裡？", "answer": "請停機車格。"}, ensure_ascii=False)
    content = f'{good}\n{{"id": "J-10", "question": "少了結尾\n'.encode()
    job = _upload(console, "faq.jsonl", content)
    assert _finish(console, job)["status"] == "done"
    assert "JSON 格式錯誤" in console.get(job).text
    rows = list(csv.DictReader(io.StringIO(console.get(f"{job}/rejected.csv").text.lstrip("\ufeff"))))
    assert [(r["位置"], r["原文"]) for r in rows] == [("第 2 行", '{"id": "J-10", "question": "少了結尾')]


def test_xlsx_and_jsonl_imports_and_bad_files(console: TestClient) -> None:
    login_as(console, "staff")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "question", "answer"])
    sheet.append(["X-1", "身分證遺失怎麼辦？", "請到戶政事務所申請補發。"])
    data = io.BytesIO()
    book.save(data)
    assert _finish(console, _upload(console, "faq.xlsx", data.getvalue()))["status"] == "done"
    line = json.dumps({"id": "J-1", "question": "機車停哪裡？", "answer": "請停機車格。"}, ensure_ascii=False)
    assert _finish(console, _upload(console, "faq.txt", line.encode(), fmt="jsonl"))["status"] == "done"
    with _db(console).session() as session:
        assert {"X-1", "J-1"} <= set(session.scalars(select(FaqRow.id)))

    unknown = console.post("/console/kb/import", files={"file": ("faq.txt", b"x")}, data={"fmt": "auto"})
    assert unknown.status_code == 400
    assert "無法從檔名判斷格式" in unknown.text
    empty = console.post("/console/kb/import", files={"file": ("faq.csv", b"")})
    assert (empty.status_code, "檔案是空的" in empty.text) == (400, True)
    broken = _finish(console, _upload(console, "broken.csv", b"colour,size\nred,3\n"))
    assert broken["status"] == "failed"
    assert "無法讀取檔案" in str(broken["message"])
    assert "標題列缺少欄位" in console.get(f"/console/kb/import/{broken['id']}").text


def test_the_duplicate_finder_pairs_merges_and_dismisses(console: TestClient) -> None:
    login_as(console, "staff")
    near = {
        "id": "D-1",
        "question": "房屋稅要什麼時候繳？",
        "answer": "五月。",
        "action": "publish",
    }
    assert console.post("/console/kb/new", data=near).status_code == 200
    page = console.get("/console/kb/duplicates").text
    assert "D-1" in page
    assert "F-2" in page
    assert "第 1 組" in page
    assert "第 2 組" not in page
    merged = console.post("/console/kb/duplicates/merge", data={"keep": "F-2", "drop": "D-1"})
    assert "已將 D-1 併入 F-2" in merged.text
    with _db(console).session() as session:
        kept = session.get(FaqRow, "F-2")
        dropped = session.get(FaqRow, "D-1")
        assert kept is not None
        assert dropped is not None
        assert "房屋稅要什麼時候繳？" in kept.alt_questions
        assert dropped.status == "archived"
    assert "目前沒有相似的題目" in console.get("/console/kb/duplicates").text

    again = {**near, "id": "D-2", "question": "房屋稅在什麼時候繳？"}
    console.post("/console/kb/new", data=again)
    assert "D-2" in console.get("/console/kb/duplicates").text
    console.post("/console/kb/duplicates/dismiss", data={"first": "F-2", "second": "D-2"})
    assert "D-2" not in console.get("/console/kb/duplicates").text


def test_near_duplicates_by_character_bigrams() -> None:
    assert dice(bigram_set("房屋稅什麼時候繳？"), bigram_set("房屋稅 什麼時候繳")) == 1.0
    assert dice(bigram_set("路燈不亮"), bigram_set("垃圾車時間")) == 0.0
    questions = [
        ("A", "大型垃圾要怎麼預約清運？"),
        ("B", "大型垃圾如何預約清運"),
        ("C", "房屋稅什麼時候繳？"),
        ("D", "狗狗走失怎麼辦"),
    ]
    pairs = near_duplicates(questions, threshold=0.6)
    assert [(p.first, p.second) for p in pairs] == [("A", "B")]
    assert near_duplicates(questions, threshold=0.6, skip={("A", "B")}) == []


def test_questions_that_differ_in_a_word_are_not_duplicates() -> None:
    """What Dice alone paired (issue 25 item 13): one template, a different thing asked about."""
    questions = [
        ("seal", "印鑑證明要怎麼申請？"),
        ("disability", "身心障礙證明要怎麼申請？"),
        ("house", "房屋稅何時開徵？課稅所屬期間為何？"),
        ("land", "地價稅何時開徵？課稅所屬期間為何？"),
        ("online", "請問警察刑事紀錄證明書（良民證）可以上網申請嗎？"),
        ("post", "請問警察刑事紀錄證明書（良民證）可以郵寄申請嗎？"),
        ("team", "社會體育團體赴外參加比賽是否有補助？如何申請？"),
        ("team-again", "社會體育團體赴外縣市參加比賽是否有補助如何申請"),
        ("tax", "房屋稅在什麼時候繳？"),
        ("tax-again", "房屋稅要什麼時候繳"),
    ]
    assert dice(bigram_set("房屋稅何時開徵？"), bigram_set("地價稅何時開徵？")) > 0.6
    assert not same_content(content_key("房屋稅何時開徵"), content_key("地價稅何時開徵"))
    pairs = near_duplicates(questions, threshold=0.6)
    assert [(p.first, p.second) for p in pairs] == [("tax", "tax-again"), ("team", "team-again")]
