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


def test_file_a_case_with_the_plain_form(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        page = client.get("/cases/new")
        assert page.status_code == 200
        assert 'name="description"' in page.text
        filed = client.post("/cases", data=GOOD)
        assert filed.status_code == 201
        number = filed.text.split('class="number">')[1].split("<")[0]
        assert is_valid_case_number(number)
        assert "4 小時" in filed.text
    database = Database(database_url)
    with database.session() as session:
        case = CaseStore(session).get(number)
        assert (case.category, case.phone, case.contact_consent) == ("street_light", "0912345678", True)
    database.dispose()


def test_bad_input_is_explained_and_what_was_typed_kept(database_url: str, tmp_path: Path) -> None:
    with TestClient(create_app(app_settings(database_url, tmp_path))) as client:
        missing = client.post("/cases", data={**GOOD, "location_text": ""})
        assert missing.status_code == 400
        assert "地點" in missing.text
        assert "路燈整晚不亮" in missing.text
        phone = client.post("/cases", data={**GOOD, "phone": "123"})
        assert phone.status_code == 400
        assert "聯絡電話" in phone.text
        unknown = client.post("/cases", data={**GOOD, "category": "ufo"})
        assert unknown.status_code == 400
        script = client.post(
            "/cases", data={**GOOD, "description": "<script>alert(1)</script>", "phone": "1"}
        )
        assert "<script>alert(1)</script>" not in script.text
        assert "&lt;script&gt;" in script.text
