"""Redis stopped and started again under the site (a real redis-server on a spare loopback port): pages are served
uncached, enrolments accepted with the rate limit counted in the process, and the cache is used again afterwards."""

import logging
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache import caches

from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import make_campaign, mutual_aid_data
from portal.settings.base import redis_caches
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db
RETRY_SECONDS = 0.5


class RedisServer:
    def __init__(self, directory):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.directory, self.proc = directory, None

    def start(self):
        # Append-only file: what was cached before a restart is still there afterwards.
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client().ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline and self.proc.poll() is None, "redis-server 未能启动"
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.proc.poll() is None:
        server.stop()


@pytest.fixture
def site_on_redis(redis_server, settings):
    """The caches as settings make them for REDIS_URL, on this server."""
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{redis_server.port}/0",
                                   {"CACHE_RETRY_SECONDS": str(RETRY_SECONDS)})
    settings.PAGE_CACHE_ALIAS = "pages"
    settings.PAGE_CACHE_SECONDS = 300
    settings.ENROLMENT_RATE_LIMIT = (3, 600)
    assert type(caches["default"]).__module__ == "core.cache"
    return redis_server


def enrol(client, campaign, serial):
    return client.post(campaign.url, mutual_aid_data(id_number=make_id_number(f"42010619900307{serial:03d}")))


def rate_count(server):
    keys = [key for key in server.client().keys("*") if b"enrol-rate" in key]
    assert len(keys) == 1, keys
    return int(server.client().get(keys[0]))


def test_site_works_while_redis_is_down_and_uses_it_again(client, site_on_redis, home_page, speech_index, caplog):
    from campaigns.models import CampaignIndexPage

    index = CampaignIndexPage(title="活动专题", slug="campaigns")
    home_page.add_child(instance=index)
    campaign = make_campaign(index)
    speech = SpeechPageFactory(parent=speech_index, title="原来的讲话标题")
    server = site_on_redis

    # Redis up: the page is cached, the enrolment counted in Redis.
    assert client.get(speech.url)["X-Cache"] == "MISS"
    assert client.get(speech.url)["X-Cache"] == "HIT"
    assert enrol(client, campaign, 0).status_code == 302
    assert rate_count(server) == 1

    server.stop()
    caplog.set_level(logging.WARNING, logger="core.cache")
    for _ in range(3):  # served, and not from a cache
        response = client.get(speech.url)
        assert response.status_code == 200 and response["X-Cache"] == "MISS"
        assert "原来的讲话标题" in response.content.decode()
    for url in ("/", speech_index.url, campaign.url, "/search/?q=讲话"):
        assert client.get(url).status_code == 200, url
    speech.title = "停机期间修改的标题"
    speech.save_revision().publish()  # its purge cannot reach Redis
    assert "停机期间修改的标题" in client.get(speech.url).content.decode()
    # Enrolments are accepted; the limit (3) is enforced by this process's memory cache.
    assert [enrol(client, campaign, serial).status_code for serial in (1, 2, 3, 4)] == [302, 302, 302, 429]
    assert "提交过于频繁" in enrol(client, campaign, 5).content.decode()
    assert Enrolment.objects.count() == 4
    time.sleep(RETRY_SECONDS * 2)
    assert client.get(speech.url).status_code == 200  # tried Redis again: still down
    down = [r.getMessage() for r in caplog.records if "Redis 不可用" in r.getMessage()]
    assert len(down) == 2, down  # once per cache (default: memory, pages: none), however many calls failed
    assert {"本地内存缓存" in m for m in down} == {True, False}

    server.start()  # same port and data: the copy cached before the outage is still in Redis
    time.sleep(RETRY_SECONDS * 2)
    response = client.get(speech.url)
    assert response["X-Cache"] == "MISS" and "停机期间修改的标题" in response.content.decode()
    assert client.get(speech.url)["X-Cache"] == "HIT"
    assert enrol(client, campaign, 6).status_code == 302
    assert rate_count(server) == 2  # counted in Redis again, from where it was
    assert Enrolment.objects.count() == 5
    assert sum("Redis 已恢复" in r.getMessage() for r in caplog.records) == 2
