"""A database that cannot be reached gives HTTP 503 with a Chinese message, and reads wait for it to return.

The failing connection is real: a second connection object pointed at a closed port (PostgreSQL) or an
unopenable file (SQLite), swapped in for the duration of the request.
"""

import copy
import socket

import pytest
from django.db import connections
from django.db.utils import load_backend

from core import middleware

pytestmark = pytest.mark.django_db


def _unreachable():
    original = connections["default"]
    settings_dict = copy.deepcopy(original.settings_dict)
    if original.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/portal.sqlite3"
    else:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there
        settings_dict.update(HOST="127.0.0.1", PORT=str(port))
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


@pytest.fixture
def database_down(monkeypatch):
    original = connections["default"]
    monkeypatch.setattr(middleware.DatabaseUnavailableMiddleware, "RETRY_DELAY", 0.01)
    broken = connections["default"] = _unreachable()
    yield original
    broken.close()
    connections["default"] = original


def test_pages_api_and_forms_answer_503_while_the_database_is_down(client, home_page, database_down):
    page = client.get("/")
    assert page.status_code == 503 and page["Retry-After"]
    assert "系统暂时繁忙" in page.content.decode()
    api = client.get("/api/search/", {"q": "服务卡"})
    assert api.status_code == 503 and "系统暂时繁忙" in api.json()["error"]
    assert client.post("/campaigns/x/", {"name": "张三"}).status_code == 503


def test_a_read_waits_for_the_database_to_come_back(client, home_page, database_down, monkeypatch):
    def database_back(seconds):
        connections["default"] = database_down

    monkeypatch.setattr(middleware.time, "sleep", database_back)
    response = client.get("/")
    assert response.status_code == 200 and "工会" in response.content.decode()
