"""Open311 GeoReport v2, following the specification's own request examples."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from tests.conftest import app_settings

KEY = "test-key-123"
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
    settings = app_settings(database_url, tmp_path, open311={"api_keys": [KEY]})
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
    assert client.get("/open311/v2/services/nope.json").json() == [
        {"code": 404, "description": "no service with code nope"}
    ]


def test_file_then_read_back_without_personal_data(client: TestClient) -> None:
    response = _file(client)
    assert response.status_code == 200, response.text
    (created,) = response.json()
    number = created["service_request_id"]
    (request,) = client.get(f"/open311/v2/requests/{number}.json").json()
    assert request["status"] == "open"
    assert request["agency_responsible"] == "工務局養護工程處"
    assert (request["lat"], request["long"]) == (22.6273, 120.3014)
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
