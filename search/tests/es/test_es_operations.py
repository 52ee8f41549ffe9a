"""Rebuilding while visitors search, and a search server that is down (a closed port, not a mock)."""

import json
import socket
import threading

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from wagtail.search.backends import get_search_backend

from search.es_errors import SearchUnavailableMiddleware
from search.tests.es.plugin import es_config
from speeches.models import SpeechPage
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_search_keeps_answering_during_rebuild(es_backend, imported_corpus):
    call_command("update_index", verbosity=0)
    alias = es_backend.get_index_for_model(SpeechPage)
    before = [index.name for index in alias.aliased_indices()]
    expected = SpeechPage.objects.live().search("工会").count()
    assert expected > 0

    counts, errors, done = [], [], threading.Event()

    def query_loop():
        # Counting runs on the search server only, so this thread needs no database connection.
        while not done.is_set() or len(counts) < 5:
            try:
                counts.append(SpeechPage.objects.live().search("工会").count())
            except Exception as exc:  # noqa: BLE001 - any error is a failure, reported below
                errors.append(repr(exc))

    thread = threading.Thread(target=query_loop)
    thread.start()
    try:
        for _ in range(2):
            call_command("update_index", verbosity=0)
    finally:
        done.set()
        thread.join(timeout=120)
    assert not errors, errors[:3]
    assert len(counts) >= 5
    assert set(counts) == {expected}
    after = [index.name for index in alias.aliased_indices()]
    assert len(after) == 1 and after != before


def test_down_server_gives_503_and_publishing_still_works(es_url, settings, speech_index, client, caplog):
    settings.WAGTAILSEARCH_BACKENDS = es_config(closed_port_url())

    # Publishing with the server down works; the failure is logged.
    page = SpeechPageFactory(parent=speech_index, slug="down", title="金秋助学动员讲话",
                             body=[("paragraph", "<p>开展金秋助学活动。</p>")])
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.live
    assert any("down" in record.getMessage() or "金秋助学" in record.getMessage() or record.exc_info
               for record in caplog.records if record.levelname in ("ERROR", "EXCEPTION"))

    # Visitors get a clear Chinese 503, never a server error.
    response = client.get("/api/v2/pages/", {"search": "金秋助学", "type": "speeches.SpeechPage"})
    assert response.status_code == 503
    assert response.json() == {"error": "搜索暂时不可用，请稍后再试。"}

    def search_view(request):
        from django.http import HttpResponse

        return HttpResponse(str(list(SpeechPage.objects.live().search(request.GET["q"]))))

    request = RequestFactory().get("/search/", {"q": "金秋助学"})
    middleware = SearchUnavailableMiddleware(search_view)
    try:
        search_view(request)
    except Exception as exc:  # noqa: BLE001 - the real client error from the closed port
        response = middleware.process_exception(request, exc)
    assert response.status_code == 503
    html = response.content.decode()
    assert "搜索暂时不可用" in html and "<html" in html
    api_request = RequestFactory().get("/api/search/", {"q": "金秋助学"})
    try:
        search_view(api_request)
    except Exception as exc:  # noqa: BLE001
        response = middleware.process_exception(api_request, exc)
    assert response.status_code == 503
    assert json.loads(response.content) == {"error": "搜索暂时不可用，请稍后再试。"}

    # When the server is back, the next update catches the index up.
    settings.WAGTAILSEARCH_BACKENDS = es_config(es_url)
    call_command("update_index", verbosity=0)
    assert [p.slug for p in SpeechPage.objects.live().search("金秋助学")] == ["down"]
    assert get_search_backend().vendor == "elasticsearch"
