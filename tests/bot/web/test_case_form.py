import re
from pathlib import Path

from fastapi.testclient import TestClient

from bot.app import create_app
from bot.cases import is_valid_case_number
from bot.store import Database
from bot.store.cases import CaseStore
from tests.conftest import app_settings

GOOD = {
    "category": "street_light",
    "location_text": "中山路和七賢路口",
    "description": "路燈整晚不亮",
    "phone": "0912345678",
    "consent": "yes",
}


def _token(page: str) -> str:
    found = re.search(r'name="submission" value="([^"]+)"', page)
    assert found is not None, "the form carries its idempotency token"
    return found[1]


def _number(page: str) -> str:
    return page.split('class="number">')[1].split("<")[0]


def test_file_a_case_with_the_plain_form(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        page = client.get("/cases/new")
        assert page.status_code == 200
        assert 'name="description"' in page.text
        filed = client.post("/cases", data={**GOOD, "submission": _token(page.text)}, follow_redirects=False)
        assert filed.status_code == 303, "post/redirect/get: the browser is sent to the confirmation"
        assert filed.headers["location"].startswith("/cases/filed?s=")
        confirmation = client.get(filed.headers["location"])
        assert confirmation.status_code == 200
        number = _number(confirmation.text)
        assert is_valid_case_number(number)
        assert "4 小時" in confirmation.text
        assert 'href="/"' in confirmation.text, "a way back to the chat"
    database = Database(database_url)
    with database.session() as session:
        case = CaseStore(session).get(number)
        assert (case.category, case.phone, case.contact_consent) == ("street_light", "0912345678", True)
    database.dispose()


def test_the_same_form_posted_again_or_the_confirmation_reloaded_files_one_case(
    database_url: str, tmp_path: Path
) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        token = _token(client.get("/cases/new").text)
        first = client.post("/cases", data={**GOOD, "submission": token}, follow_redirects=False)
        again = client.post("/cases", data={**GOOD, "submission": token}, follow_redirects=False)
        assert first.headers["location"] == again.headers["location"]
        numbers = {_number(client.get(first.headers["location"]).text) for _ in range(3)}
        assert len(numbers) == 1
        other = client.post("/cases", data={**GOOD, "submission": _token(client.get("/cases/new").text)})
        assert _number(other.text) not in numbers, "a new form is a new case"
        assert client.get("/cases/filed?s=no-such-token-at-all").status_code == 404
    database = Database(database_url)
    with database.session() as session:
        assert CaseStore(session).get(numbers.pop()).description == "路燈整晚不亮"
    database.dispose()


def test_no_category_is_chosen_for_the_citizen(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        page = client.get("/cases/new").text
    assert '<option value="" selected>請選擇問題類別</option>' in page
    assert page.count(" selected>") == 1
    assert '<a href="/">' in page, "a link back to the chat"


def test_every_problem_is_named_at_once_in_chinese(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        bad = client.post(
            "/cases", data={"category": "", "location_text": " ", "description": "", "phone": "123"}
        )
    assert bad.status_code == 400
    for message in (
        "請選擇問題類別。",
        "請填寫地點，例如路名與路口、門牌或明顯地標。",
        "請簡單說明狀況。",
        "電話號碼看起來不對，請輸入手機（09 開頭 10 碼）或含區碼的市話，或留空。",
    ):
        assert message in bad.text
    assert "有 4 個欄位需要修正" in bad.text
    assert "missing or empty" not in bad.text
    assert "not a Taiwanese" not in bad.text
    assert bad.text.count('aria-invalid="true"') == 4
    assert 'aria-describedby="phone-hint phone-error"' in bad.text


def test_bad_input_is_explained_and_what_was_typed_kept(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        missing = client.post("/cases", data={**GOOD, "location_text": ""})
        assert missing.status_code == 400
        assert "地點" in missing.text
        assert "路燈整晚不亮" in missing.text
        phone = client.post("/cases", data={**GOOD, "phone": "123"})
        assert phone.status_code == 400
        assert "電話號碼看起來不對" in phone.text
        unknown = client.post("/cases", data={**GOOD, "category": "ufo"})
        assert unknown.status_code == 400
        assert "請從清單選擇問題類別" in unknown.text
        script = client.post(
            "/cases", data={**GOOD, "description": "<script>alert(1)</script>", "phone": "1"}
        )
        assert "<script>alert(1)</script>" not in script.text
        assert "&lt;script&gt;" in script.text
        token = _token(missing.text)
        fixed = client.post("/cases", data={**GOOD, "submission": token}, follow_redirects=False)
        assert fixed.status_code == 303, "the token of the refused post still files once fixed"


def test_the_chat_can_open_the_form_filled_in(database_url: str, tmp_path: Path) -> None:
    query = {"category": "road_pothole", "location_text": "三民區九如一路", "description": "有個大坑洞"}
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        page = client.get("/cases/new", params=query).text
        odd = client.get("/cases/new", params={"category": "ufo"}).text
    assert '<option value="road_pothole" selected>' in page
    assert 'value="三民區九如一路"' in page
    assert ">有個大坑洞</textarea>" in page
    assert '<option value="" selected>請選擇問題類別</option>' in odd
