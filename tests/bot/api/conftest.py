from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from tests.conftest import app_settings


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    """The real app over a real database, called from 127.0.0.1."""
    app = create_app(app_settings(database_url, tmp_path))
    with TestClient(app, client=("127.0.0.1", 50000)) as test_client:
        yield test_client
