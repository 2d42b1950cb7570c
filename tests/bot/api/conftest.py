from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.settings import load_settings


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The real app over a real database, called from 127.0.0.1."""
    app = create_app(load_settings(database_url=database_url))
    with TestClient(app, client=("127.0.0.1", 50000)) as test_client:
        yield test_client
