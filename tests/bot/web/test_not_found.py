from pathlib import Path

from fastapi.testclient import TestClient

from bot.app import create_app
from tests.conftest import app_settings

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_gets_a_chinese_page_with_a_way_back(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        page = client.get("/no-such-page", headers=BROWSER)
        console = client.get("/console/no-such-page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "找不到這個網頁" in page.text
    assert '<a href="/">回到線上客服</a>' in page.text
    assert '<a href="/console">回到管理後台</a>' not in page.text
    assert console.status_code == 404
    assert '<a href="/console">回到管理後台</a>' in console.text


def test_programs_keep_json(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        plain = client.get("/no-such-page")
        api = client.get("/api/no-such-thing", headers=BROWSER)
        faq = client.get("/api/kb/faqs/NOPE", headers={"Accept": "application/json"})
        open311 = client.get("/open311/v2/nothing.json", headers=BROWSER)
    assert plain.status_code == 404
    assert plain.json() == {"detail": "Not Found"}
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}
    assert faq.status_code in {401, 403, 404}
    assert "detail" in faq.json()
    assert open311.status_code == 404
    assert open311.headers["content-type"].startswith("application/json")


def test_the_favicon(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        ico = client.get("/favicon.ico")
        svg = client.get("/favicon.svg")
        page = client.get("/cases/new")
    assert ico.status_code == 200
    assert ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in page.text
