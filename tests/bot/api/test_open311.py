"""Open311 GeoReport v2, following the specification's own request examples, and what each
kind of client may read (bot/store/publication.py)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.handoff.takeover import file_from_transcript
from bot.store import Database
from bot.store.conversations import ConversationStore
from bot.store.turns import Turn, TurnStore
from tests.conftest import app_settings

KEY = "test-key-123"
READ_KEY = "read-key-456"
# the specification's POST example, with this city's service code, place and phone formats
SPEC_POST = {
    "api_key": KEY,
    "jurisdiction_id": "1999.city.gov.tw",
    "service_code": "road_pothole",
    "lat": "22.6273",
    "long": "120.3014",
    "address_string": "中正四路與五福路口",
    "email": "smit222@sfgov.edu",
    "device_id": "tt222111",
    "account_id": "123456",
    "first_name": "john",
    "last_name": "smith",
    "phone": "0912345678",
    "description": "路面一個大坑洞，請聯絡0912345678",
    "media_url": "http://example.com/image.jpg",
}


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = app_settings(database_url, tmp_path, open311={"api_keys": [KEY], "read_keys": [READ_KEY]})
    with TestClient(create_app(settings), client=("198.51.100.7", 1234)) as test_client:
        yield test_client


def _file(client: TestClient, **changes: str) -> Any:
    return client.post("/open311/v2/requests.json", data={**SPEC_POST, **changes})


def test_services_and_a_service_definition(client: TestClient) -> None:
    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services}
    assert {
        "road_pothole",
        "fallen_tree",
        "street_light",
        "road_flooding",
        "traffic_signal",
        "traffic_incident",
    } <= codes
    assert set(services[0]) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert client.get("/open311/v2/services/road_pothole.json").json() == {
        "service_code": "road_pothole",
        "attributes": [],
    }
    (error,) = client.get("/open311/v2/services/nope.json").json()
    assert error["code"] == 404
    assert "沒有這個服務代碼" in error["description"]
    assert "no service with code nope" in error["description"]


def test_file_then_read_back_without_personal_data(client: TestClient) -> None:
    response = _file(client)
    assert response.status_code == 200, response.text
    (created,) = response.json()
    number = created["service_request_id"]
    (request,) = client.get(f"/open311/v2/requests/{number}.json").json()
    assert request["status"] == "open"
    assert request["agency_responsible"] == "高雄市政府工務局"
    assert (request["lat"], request["long"]) == (22.627, 120.301), "about 100 m for the public"
    assert request["media_url"] is None
    assert "0912345678" not in str(request)
    assert "[phone]" in request["description"]
    listed = client.get(
        "/open311/v2/requests.json", params={"service_code": "road_pothole", "status": "open"}
    ).json()
    assert [r["service_request_id"] for r in listed] == [number]
    assert client.get("/open311/v2/requests.json", params={"status": "closed"}).json() == []
    by_id = client.get(
        "/open311/v2/requests.json", params={"service_request_id": f"{number},000000-0000-0"}
    ).json()
    assert [r["service_request_id"] for r in by_id] == [number]


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"api_key": "鑰匙"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "ufo"}, 404, "no service"),
        ({"lat": "north"}, 400, "lat is not a number"),
        ({"description": ""}, 400, "description"),
        ({"phone": "111111111"}, 400, "phone"),
        ({"lat": "", "long": "", "address_string": ""}, 400, "location"),
    ],
)
def test_malformed_requests_get_the_standard_error_format(
    client: TestClient, changes: dict[str, str], code: int, words: str
) -> None:
    response = _file(client, **changes)
    assert response.status_code == code
    (error,) = response.json()
    assert error["code"] == code
    assert words in error["description"]


def test_bad_filters_are_explained(client: TestClient) -> None:
    assert client.get("/open311/v2/requests.json", params={"status": "pending"}).status_code == 400
    assert (
        client.get("/open311/v2/requests.json", params={"start_date": "last week"}).json()[0]["code"] == 400
    )
    assert client.get("/open311/v2/requests.json", params={"service_code": "ufo"}).status_code == 400
    assert client.get("/open311/v2/requests/261122-0001-0.json").status_code == 404
    assert client.post(
        "/open311/v2/requests.json", content=b"\x00\x01", headers={"content-type": "application/json"}
    ).status_code in {400, 403}


def _ids(client: TestClient, **params: str) -> set[str]:
    response = client.get("/open311/v2/requests.json", params=params)
    assert response.status_code == 200, response.text
    return {r["service_request_id"] for r in response.json()}


def _conversation_case(client: TestClient) -> str:
    """A case as a request for a person out of hours files it: a conversation excerpt."""
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    with database.session() as session:
        ConversationStore(session).seen("p_conversation", "web", "web-1")
        TurnStore(session).log(
            Turn("p_conversation", "p_conversation", "web", text="我要找真人", reply=["…"])
        )
        return file_from_transcript(session, "p_conversation", channel="web", reason="非服務時間").number


def test_without_a_key_only_the_public_categories_are_read(client: TestClient) -> None:
    pothole = _file(client).json()[0]["service_request_id"]
    noise = _file(client, service_code="noise", description="樓上半夜很吵").json()[0]["service_request_id"]
    general = _file(client, service_code="general", description="我想陳情").json()[0]["service_request_id"]
    excerpt = _conversation_case(client)

    assert _ids(client) == {pothole}
    assert _ids(client, service_request_id=f"{pothole},{noise},{general},{excerpt}") == {pothole}
    assert _ids(client, service_code="noise") == set()
    for hidden in (noise, general, excerpt):
        response = client.get(f"/open311/v2/requests/{hidden}.json")
        assert response.status_code == 404, "answered as a case that does not exist"
        assert "查無此案件" in response.json()[0]["description"]


def test_a_read_key_reads_more_but_never_a_conversation(client: TestClient) -> None:
    pothole = _file(client).json()[0]["service_request_id"]
    noise = _file(client, service_code="noise", description="樓上半夜很吵").json()[0]["service_request_id"]
    excerpt = _conversation_case(client)

    assert _ids(client, api_key=READ_KEY) == {pothole, noise}
    assert client.get(f"/open311/v2/requests/{excerpt}.json", params={"api_key": READ_KEY}).status_code == 404
    (read,) = client.get(f"/open311/v2/requests/{pothole}.json", params={"api_key": READ_KEY}).json()
    assert (read["lat"], read["long"]) == (22.6273, 120.3014), "exact coordinates"
    assert read["media_url"] == "http://example.com/image.jpg"
    assert "0912345678" not in str(read)


def test_each_key_has_its_own_scope(client: TestClient) -> None:
    # a filing key does not read more, a read key cannot file, a wrong key is told so
    for key in (KEY, "wrong", "鑰匙"):
        response = client.get("/open311/v2/requests.json", params={"api_key": key})
        assert response.status_code == 403
        assert "api_key" in response.json()[0]["description"]
        assert (
            client.get("/open311/v2/requests/261122-0001-0.json", params={"api_key": key}).status_code == 403
        )
    assert _file(client, api_key=READ_KEY).status_code == 403


def test_the_public_address_is_the_street_and_the_description_keeps_no_identifiers(
    client: TestClient,
) -> None:
    number = _file(
        client,
        address_string="中正四路211巷5號3樓前",
        description="坑洞在我家門口，我的案件 261122-0042-7 末三碼678 還沒處理，身分證A123456789",
    ).json()[0]["service_request_id"]
    (shown,) = client.get(f"/open311/v2/requests/{number}.json").json()
    assert shown["address"] == "中正四路前"
    for secret in ("211巷", "5號", "261122-0042-7", "678", "A123456789"):
        assert secret not in shown["description"] + shown["address"]
    assert "[case]" in shown["description"]
    assert "[digits]" in shown["description"]


def test_the_openapi_document_has_georeport_field_names(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert set(schemas["ServiceRequest"]["properties"]) == {
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
        "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
        "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
    }  # fmt: skip
    filing = document["paths"]["/open311/v2/requests.json"]["post"]
    form = filing["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "lat", "long", "address_string", "description"} <= set(
        form["properties"]
    )
    listing = document["paths"]["/open311/v2/requests.json"]["get"]
    assert "api_key" in {p["name"] for p in listing["parameters"]}
