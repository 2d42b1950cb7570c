"""``POST /api/chat/photo``: the web chat's photo, kept like a LINE or Telegram photo.

Rasa is not running here (degraded mode); the case form taking the photo is in tests/conversations.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.media import MediaStore
from bot.store import Database
from bot.store.models import TurnRow
from tests.bot.channels.conftest import JPEG, PNG
from tests.conftest import app_settings

LIMIT = 400_000  # more than the 256 KB every other body may have


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def client(database_url: str, tmp_path: Path, media_dir: Path) -> Iterator[TestClient]:
    channels = {"media_dir": str(media_dir), "max_photo_bytes": LIMIT}
    with TestClient(create_app(app_settings(database_url, tmp_path, channels=channels))) as test_client:
        yield test_client


def _send(client: TestClient, data: bytes, *, name: str = "pothole.jpg", message_id: str = "m-1") -> object:
    return client.post(
        "/api/chat/photo",
        data={"sender": "web-photo", "message_id": message_id},
        files={"photo": (name, data, "image/jpeg")},
    )


def test_a_photo_is_kept_and_reaches_the_conversation(
    client: TestClient, media_dir: Path, database_url: str
) -> None:
    response = _send(client, JPEG)
    assert response.status_code == 200
    assert "收到位置或照片了" in response.json()["replies"][-1]["text"]
    again = _send(client, JPEG)  # the widget's retry of the same message: the same answer, no new turn
    assert again.json() == response.json()
    kept = list(media_dir.rglob("*.jpg"))
    assert len(kept) == 1
    assert kept[0].read_bytes() == JPEG
    database = Database(database_url)
    with database.session() as session:
        rows = session.query(TurnRow).filter(TurnRow.channel == "web").all()
    database.dispose()
    assert len(rows) == 1
    ref = MediaStore(media_dir, LIMIT).save(JPEG)  # the same bytes: the same reference
    assert MediaStore(media_dir, LIMIT).path(ref) == kept[0]


def test_what_is_not_a_photo_or_too_large_is_refused_in_chinese(client: TestClient, media_dir: Path) -> None:
    script = _send(client, b"<script>alert(1)</script>", name="x.jpg", message_id="m-2")
    assert script.status_code == 400
    assert script.json()["detail"] == "只能收 JPEG、PNG 或 WebP 格式的照片，請改傳一張照片。"
    large = _send(client, PNG + b"\x00" * LIMIT, name="big.png", message_id="m-3")
    assert large.status_code == 400
    assert large.json()["detail"].startswith("照片太大了（上限 0.4 MB）")
    assert not list(media_dir.rglob("*.*"))


def test_a_photo_may_be_larger_than_other_bodies_but_not_than_its_own_limit(client: TestClient) -> None:
    photo = JPEG[:-2] + b"\x00" * 300_000 + b"\xff\xd9"  # over the 256 KB of a chat message
    assert _send(client, photo, message_id="m-4").status_code == 200
    far_too_large = _send(client, JPEG + b"\x00" * (LIMIT + 100_000), message_id="m-5")
    assert far_too_large.status_code == 413, "refused before the route reads it"
    assert "送出的內容太大" in far_too_large.json()["detail"]
