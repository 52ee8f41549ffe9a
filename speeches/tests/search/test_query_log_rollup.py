"""The search log off the request path: searches append events, the worker's roll-up counts them into the daily
rows exactly once (retried, repeated or concurrent), prunes old rows, and a failing log never breaks a search."""

import datetime
import re
import socket
import threading
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import BackgroundJob, JobStatus
from core.tests.worker import database_tasks, run_worker, wait_for
from portal.settings.base import redis_caches
from search import querylog, reports
from search.models import QueryEvent, QueryLog
from speeches.tests.factories import SpeechPageFactory

ROLLUP_TASK = "search.tasks.rollup_search_log"


@pytest.fixture(autouse=True)
def empty_buffer():
    querylog._state.pending.clear()
    cache.delete(querylog.ROLLUP_KEY)
    yield
    querylog.stop()
    querylog._state.pending.clear()


@pytest.fixture
def speech(speech_index):
    page = SpeechPageFactory(parent=speech_index, slug="card", title="推广会员服务卡的讲话",
                             body=[("paragraph", "<p>扩大会员服务卡覆盖面，让职工得实惠。</p>")])
    page.save_revision().publish()
    return page


def open_link(html):
    return re.search(r'<a href="(/search/open/[^"]+)">推广会员服务卡的讲话', html)[1].replace("&amp;", "&")


def rollup_tasks():
    return DBTaskResult.objects.filter(task_path=ROLLUP_TASK)


def counts():
    return {row.query: (row.searches, row.zero_results, row.results, row.opens) for row in QueryLog.objects.all()}


def _rename(old, new):
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {connection.ops.quote_name(old)} RENAME TO {connection.ops.quote_name(new)}")


@contextmanager
def table_missing(model):
    """The model's table renamed away: every statement on it fails (as when it is locked or the disk is full)."""
    name = model._meta.db_table
    _rename(name, name + "_away")
    try:
        yield
    finally:
        _rename(name + "_away", name)


def test_worker_rolls_searches_up_once_and_prunes(transactional_db, client, speech, settings):
    settings.SEARCH_LOG_ROLLUP_SECONDS = 60
    today = timezone.localdate()
    QueryLog.objects.create(day=today - datetime.timedelta(days=200), query="旧词", searches=1)
    with database_tasks():
        html = client.get("/search/", {"q": "服务卡"}).content.decode()
        client.get("/api/search/", {"q": "服務卡"})
        client.get("/api/search/", {"q": "服务卡", "page": 2})  # later pages are not searches
        client.get("/search/", {"q": "潜水艇"})
        client.get("/api/search/", {"q": "潜水艇"})
        client.get("/search/", {"q": "110105194912310025"})  # never logged
        assert client.get(open_link(html)).status_code == 302
        assert QueryEvent.objects.aggregate(n=Sum("searches"))["n"] == 4
        assert not QueryLog.objects.filter(day=today).exists()
        assert rollup_tasks().count() == 1  # once per SEARCH_LOG_ROLLUP_SECONDS, not per search
        assert run_worker() == 1
    assert counts() == {"服务卡": (2, 0, 1, 1), "潜水艇": (2, 2, 0, 0)}  # 旧词 pruned
    assert QueryLog.objects.get(query="服务卡").day == today
    assert not QueryEvent.objects.exists()
    assert rollup_tasks().get().status == "SUCCESSFUL"

    # Run again (a retry or cron): nothing is counted twice; new searches are added to the same day's rows.
    with database_tasks():
        client.get("/search/", {"q": "潜水艇"})
        assert rollup_tasks().count() == 1  # the guard still holds
        from search.tasks import rollup_search_log

        rollup_search_log.enqueue()
        rollup_search_log.enqueue()
        assert run_worker() == 2
    assert counts() == {"服务卡": (2, 0, 1, 1), "潜水艇": (3, 3, 0, 0)}
    assert not BackgroundJob.objects.filter(status=JobStatus.FAILED).exists()


def test_concurrent_rollups_count_each_event_once(transactional_db):
    today = timezone.localdate()
    # 1,200 rows as 40 processes' flushes would append them: 30 queries, each in many rows.
    events = [QueryEvent(day=today, query=f"词{n % 30}", searches=1 + n % 3, zero_results=n % 2, results=n,
                         opens=n % 5 // 4) for n in range(1200)]
    expected = {}
    for event in events:
        total = expected.setdefault(event.query, [0, 0, 0])
        total[0] += event.searches
        total[1] += event.zero_results
        total[2] += event.opens
    QueryEvent.objects.bulk_create(events)
    start, errors = threading.Barrier(4), []

    def roll():
        try:
            start.wait()
            querylog.rollup(limit=50, max_batches=1000)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=roll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert not QueryEvent.objects.exists()
    assert {query: [row[0], row[1], row[3]] for query, row in counts().items()} == expected


def test_failed_rollup_counts_nothing_and_the_retry_counts_once(db):
    today = timezone.localdate()
    QueryLog.objects.create(day=today, query="服务卡", searches=5, results=3)
    for results in (4, 7):
        querylog.record("服务卡", results)
    querylog.record("潜水艇", 0)
    with table_missing(QueryLog), pytest.raises(DatabaseError):
        querylog.rollup()
    assert QueryEvent.objects.count() == 3  # the failed transaction deleted nothing
    assert querylog.rollup() == 3
    assert querylog.rollup() == 0
    assert counts() == {"服务卡": (7, 0, 7, 0), "潜水艇": (1, 1, 0, 0)}  # the last search's result count


def test_a_failing_log_never_breaks_the_search_and_loses_nothing(db, client, speech, settings):
    settings.SEARCH_LOG_BUFFER = 3
    with table_missing(QueryEvent):  # every append fails
        response = client.get("/search/", {"q": "服务卡"})
        assert response.status_code == 200 and "推广会员服务卡的讲话" in response.content.decode()
        api = client.get("/api/search/", {"q": "服务卡"})
        assert api.status_code == 200 and api.json()["count"] == 1
        assert client.get(open_link(response.content.decode())).status_code == 302
        for word in ("潜水艇", "航天", "深海"):  # a full buffer refuses new queries instead of growing
            assert client.get("/api/search/", {"q": word}).status_code == 200
        assert querylog.pending_count() == 5 and querylog._state.dropped == 1
    client.get("/search/", {"q": "服务卡"})  # the next append takes what was kept
    assert querylog.pending_count() == 0
    call_command("rollup_search_log")
    assert counts() == {"服务卡": (3, 0, 1, 1), "潜水艇": (1, 1, 0, 0), "航天": (1, 1, 0, 0)}


def test_background_flush_keeps_writes_out_of_the_request(transactional_db, client, speech, settings):
    settings.SEARCH_LOG_FLUSH_SECONDS = 0.2
    tables = (QueryEvent._meta.db_table, QueryLog._meta.db_table)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/search/", {"q": "服务卡"}).content.decode()
        client.get("/api/search/", {"q": "潜水艇"})
        client.get(open_link(html))
    assert not [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in tables)]
    wait_for(lambda: QueryEvent.objects.aggregate(n=Sum("searches"))["n"] == 2, timeout=20,
             what="the flush thread")
    client.get("/api/search/", {"q": "潜水艇"})
    querylog.stop()  # as at a graceful shutdown: what is buffered is appended
    assert QueryEvent.objects.aggregate(n=Sum("searches"))["n"] == 3
    call_command("rollup_search_log")
    assert counts() == {"服务卡": (1, 0, 1, 1), "潜水艇": (2, 2, 0, 0)}


def test_searches_are_logged_and_rolled_up_while_redis_is_down(transactional_db, client, speech, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{port}/0", {"CACHE_CONNECT_TIMEOUT": "0.2"})
    settings.SEARCH_LOG_ROLLUP_SECONDS = 60
    with database_tasks():
        for _ in range(3):
            assert client.get("/api/search/", {"q": "服务卡"}).status_code == 200
        assert rollup_tasks().count() == 1  # the guard falls back to this process's memory
        assert run_worker() == 1
    assert counts() == {"服务卡": (3, 0, 1, 0)}


def test_report_counts_the_newest_searches_before_showing_them(db, client, speech, django_user_model, monkeypatch):
    from django.contrib.auth.models import Group

    editor = django_user_model.objects.create_user("bianji", password="pw-editor-12345")
    editor.groups.add(Group.objects.get(name="编辑"))
    for _ in range(3):
        client.get("/search/", {"q": "潜水艇"})
    client.force_login(editor)
    html = client.get("/admin/reports/search-stats/").content.decode()
    assert re.search(r"潜水艇</a></td>\s*<td>3</td>", html[html.index("没有结果的搜索"):]), html
    assert not QueryEvent.objects.exists() and "正在后台汇总" not in html

    monkeypatch.setattr(reports, "REPORT_ROLLUP", 1)  # more than the report counts itself
    querylog.record("服务卡", 1)
    querylog.record("航天", 0)
    html = client.get("/admin/reports/search-stats/").content.decode()
    assert "另有 1 次最新的搜索正在后台汇总" in html

    with table_missing(QueryEvent):
        response = client.get("/admin/reports/search-stats/")
    assert response.status_code == 200 and "暂时无法汇总最新的搜索" in response.content.decode()
