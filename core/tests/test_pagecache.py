import os

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches

from speeches.tests.factories import SpeechPageFactory

REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/15"}}
LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pagecache-test"}}


def redis_reachable():
    import redis

    try:
        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["locmem", "redis"])
def page_cache(request, settings):
    if request.param == "redis" and not redis_reachable():
        if os.environ.get("CI"):
            pytest.fail("CI 中 Redis 不可用（127.0.0.1:6379）")
        pytest.skip("Redis 未运行（127.0.0.1:6379），跳过 Redis 页面缓存测试：运行 make services 启动")
    settings.CACHES = REDIS if request.param == "redis" else LOCMEM
    settings.PAGE_CACHE_SECONDS = 300
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


@pytest.fixture
def speech(speech_index):
    return SpeechPageFactory(parent=speech_index, title="原来的讲话标题")


def test_anonymous_pages_are_cached(client, page_cache, speech):
    assert client.get(speech.url)["X-Cache"] == "MISS"
    hit = client.get(speech.url)
    assert hit["X-Cache"] == "HIT" and "原来的讲话标题" in hit.content.decode()
    assert "Content-Security-Policy" in hit  # headers are part of the cached copy


def test_publish_purges_page_index_and_home(client, page_cache, speech, speech_index):
    for url in (speech.url, speech_index.url, "/"):
        client.get(url)
        assert client.get(url)["X-Cache"] == "HIT"
    speech.title = "修改后的讲话标题"
    speech.save_revision().publish()
    for url in (speech.url, speech_index.url, "/"):
        response = client.get(url)
        assert response["X-Cache"] == "MISS"
        assert "修改后的讲话标题" in response.content.decode()


def test_unpublish_and_move_purge(client, page_cache, speech, speech_index, home_page):
    client.get(speech_index.url)
    speech.unpublish()
    assert "原来的讲话标题" not in client.get(speech_index.url).content.decode()
    assert client.get(speech.url).status_code == 404


def test_logged_in_editor_always_sees_fresh_pages(client, page_cache, speech):
    client.get(speech.url)
    editor = get_user_model().objects.create_superuser("editor", "e@example.com", "pw-editor-12345")
    client.force_login(editor)
    response = client.get(speech.url)
    assert "X-Cache" not in response


def test_elder_mode_has_its_own_copy(client, page_cache, speech):
    client.get(speech.url)
    client.cookies["elder_mode"] = "1"
    assert client.get(speech.url)["X-Cache"] == "MISS"


def test_search_is_not_cached(client, page_cache, speech):
    client.get("/search/?q=讲话")
    assert "X-Cache" not in client.get("/search/?q=讲话")


def test_snippet_change_purges(client, page_cache, speech):
    from speeches.models import Speaker

    client.get(speech.url)
    speaker = Speaker.objects.create(name="赵六", post="主席")
    speech.speaker = speaker
    speech.save_revision().publish()
    assert "赵六" in client.get(speech.url).content.decode()
    speaker.name = "赵六六"
    speaker.save()
    assert "赵六六" in client.get(speech.url).content.decode()


EDIT_FORM = {
    "meeting": "", "org_level": "city", "region": "", "topics": "", "summary": "", "source_note": "",
    "date_delivered": "2024-03-05", "speaker": "", "body-count": "0",
    "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0", "comments-MIN_NUM_FORMS": "0",
    "comments-MAX_NUM_FORMS": "1000",
}


@pytest.fixture
def editor_client(db):
    from django.test import Client

    editor = get_user_model().objects.create_superuser("drafter", "d@example.com", "pw-drafter-12345")
    other = Client()
    other.force_login(editor)
    return other


def test_draft_and_autosave_leave_cached_pages_cached(client, editor_client, page_cache, speech, speech_index):
    for url in (speech.url, speech_index.url, "/"):
        client.get(url)
        assert client.get(url)["X-Cache"] == "HIT"
    edit_url = f"/admin/pages/{speech.pk}/edit/"
    data = {**EDIT_FORM, "org_level": speech.org_level, "title": "草稿里的新标题", "slug": speech.slug}
    autosave = editor_client.post(edit_url, data, HTTP_ACCEPT="application/json")
    assert autosave.status_code == 200 and autosave.json()["success"], autosave.content[:500]
    draft = editor_client.post(edit_url, {**data, "title": "再次保存的草稿"})
    assert draft.status_code == 302
    speech.refresh_from_db()
    assert speech.has_unpublished_changes and speech.get_latest_revision().content["title"] == "再次保存的草稿"
    for url in (speech.url, speech_index.url, "/"):
        response = client.get(url)
        assert response["X-Cache"] == "HIT" and "草稿" not in response.content.decode()

    publish = editor_client.post(edit_url, {**data, "title": "正式发布的标题", "action-publish": "发布"})
    assert publish.status_code == 302
    response = client.get(speech.url)
    assert response["X-Cache"] == "MISS" and "正式发布的标题" in response.content.decode()


def test_deleting_a_page_purges(client, page_cache, speech, speech_index):
    client.get(speech_index.url)
    assert client.get(speech_index.url)["X-Cache"] == "HIT"
    speech.delete()
    response = client.get(speech_index.url)
    assert response["X-Cache"] == "MISS" and "原来的讲话标题" not in response.content.decode()
