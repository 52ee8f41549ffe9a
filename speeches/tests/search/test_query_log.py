"""Search learns from its users: queries are logged without personal data and reported to editors."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from search.models import QueryEvent, QueryLog, SearchTerm
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def speech(speech_index):
    page = SpeechPageFactory(parent=speech_index, slug="card", title="推广会员服务卡的讲话",
                             body=[("paragraph", "<p>扩大会员服务卡覆盖面，让职工得实惠。</p>")])
    page.save_revision().publish()
    return page


@pytest.fixture
def editor_client(client, django_user_model, home_page):
    user = django_user_model.objects.create_user("bianji", password="pw-editor-12345")
    user.groups.add(Group.objects.get(name="编辑"))
    client.force_login(user)
    return client


def test_queries_results_and_opens_are_counted_without_personal_data(client, speech):
    html = client.get("/search/", {"q": "  服务卡 ", "year": ""}, REMOTE_ADDR="203.0.113.9").content.decode()
    client.get("/api/search/", {"q": "服務卡"})  # traditional characters fold into the same row
    client.get("/search/", {"q": "潜水艇"})
    client.get("/search/", {"q": "110105194912310025"})  # an ID number is never logged
    client.get("/search/", {"q": "13812345678 服务卡"})
    assert set(QueryEvent.objects.values_list("query", flat=True)) == {"服务卡", "潜水艇"}
    assert not QueryLog.objects.exists()  # counted by the roll-up, not in the request
    call_command("rollup_search_log")
    assert not QueryEvent.objects.exists()
    rows = {row.query: row for row in QueryLog.objects.all()}
    assert set(rows) == {"服务卡", "潜水艇"}
    assert rows["服务卡"].searches == 2 and rows["服务卡"].results == 1 and rows["服务卡"].opens == 0
    assert rows["潜水艇"].zero_results == 1
    for model in (QueryLog, QueryEvent):
        assert not any(hasattr(model, name) for name in ("ip", "user", "session", "cookie"))

    link = re.search(r'<a href="(/search/open/[^"]+)">推广会员服务卡的讲话', html)[1].replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 302 and response["Location"].startswith(speech.url + "?hl=")
    call_command("rollup_search_log")
    assert QueryLog.objects.get(query="服务卡").opens == 1
    assert client.get("/search/open/", {"q": "服务卡", "to": "999999"}).status_code == 404
    assert client.get("/search/open/", {"q": "服务卡", "to": "https://evil.example/"}).status_code == 404


def test_report_lists_top_zero_and_unopened_queries_and_adds_words(editor_client, client, speech):
    for _ in range(3):
        client.get("/search/", {"q": "服务卡"})
    client.get("/search/", {"q": "潜水艇"})
    html = editor_client.get("/admin/reports/search-stats/").content.decode()
    assert "搜索统计" in html and "热门搜索" in html and "没有结果的搜索" in html and "有结果但没人打开的搜索" in html
    assert "潜水艇" in html[html.index("没有结果的搜索"):]
    assert "服务卡" in html[html.index("有结果但没人打开的搜索"):]
    response = editor_client.post("/admin/reports/search-stats/add-word/", {"word": "潜水艇"})
    assert response.status_code == 302 and SearchTerm.objects.filter(word="潜水艇").exists()
    bad = editor_client.post("/admin/reports/search-stats/add-word/", {"word": "职工 疗养"}, follow=True)
    assert "未加入词库" in bad.content.decode() and not SearchTerm.objects.filter(word="职工 疗养").exists()
    form = editor_client.get("/admin/snippets/portal_search/synonymgroup/add/", {"words": "潜水艇"})
    assert "潜水艇" in form.content.decode()


def test_report_needs_the_dictionary_permission(client, django_user_model, home_page):
    user = django_user_model.objects.create_user("other", password="pw-other-12345", is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    assert client.get("/admin/reports/search-stats/").status_code in (302, 403)
    assert client.post("/admin/reports/search-stats/add-word/", {"word": "职工书屋"}).status_code in (302, 403)
    assert not SearchTerm.objects.exists()


def test_old_rows_are_pruned(home_page, settings):
    today = timezone.localdate()
    QueryLog.objects.create(day=today - datetime.timedelta(days=200), query="旧词", searches=1)
    QueryLog.objects.create(day=today - datetime.timedelta(days=10), query="新词", searches=1)
    settings.SEARCH_LOG_DAYS = 180
    call_command("prune_search_log")
    assert list(QueryLog.objects.values_list("query", flat=True)) == ["新词"]
