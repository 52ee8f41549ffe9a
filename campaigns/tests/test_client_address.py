"""Behind a reverse proxy the throttles still tell visitors apart, and nobody can forge an address or a scheme."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from wagtail.models import PageViewRestriction

from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import mutual_aid_data
from core.clientip import resolve

PROXY = "10.0.0.2"


def enrol(campaign, n, **extra):
    client = Client(**extra)
    data = mutual_aid_data(id_number=make_id_number(f"4201061990030{7000 + n:04d}"), name=f"会员{n:03d}")
    return client.post(campaign.url, data)


@pytest.mark.parametrize("meta, expected", [
    ({"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, ("203.0.113.5", False)),
    ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, ("198.51.100.1", True)),
    ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "6.6.6.6, 198.51.100.1"}, ("198.51.100.1", True)),
    ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1, 10.0.0.3"}, ("198.51.100.1", True)),
    ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "not-an-ip, 198.51.100.1"}, ("198.51.100.1", True)),
    ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "<script>"}, (PROXY, True)),
    ({"REMOTE_ADDR": PROXY}, (PROXY, True)),
    ({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "[2001:db8::1]:443"}, ("2001:db8::1", True)),
])
def test_resolve_reads_the_chain_right_to_left_from_trusted_proxies_only(settings, meta, expected):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    assert resolve(meta) == expected


def test_forged_forwarded_for_does_not_escape_the_enrolment_limit(db, campaign, settings):
    settings.TRUSTED_PROXIES = []
    settings.ENROLMENT_RATE_LIMIT = (2, 600)
    answers = [enrol(campaign, n, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
               for n in range(3)]
    assert answers == [302, 302, 429]
    assert Enrolment.objects.count() == 2


def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(db, campaign, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.ENROLMENT_RATE_LIMIT = (2, 600)
    first = [enrol(campaign, n, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code for n in range(3)]
    assert first == [302, 302, 429]
    assert enrol(campaign, 10, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 302
    # a visitor cannot pose as someone else by prepending addresses
    spoof = enrol(campaign, 11, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.2, 198.51.100.1")
    assert spoof.status_code == 429
    assert Enrolment.objects.count() == 3


@override_settings(AXES_ENABLED=True, TRUSTED_PROXIES=[PROXY])
def test_admin_lockout_is_per_visitor_behind_the_proxy(db):
    user = get_user_model().objects.create_user("staff", password="correct-horse-battery")
    user.is_staff = True
    user.save()
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(5):
        attacker.post("/admin/login/", {"username": "staff", "password": "wrong"})
    assert attacker.post("/admin/login/", {"username": "staff", "password": "correct-horse-battery"}).status_code == 429
    member = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert member.post("/admin/login/", {"username": "staff", "password": "correct-horse-battery"}).status_code == 302


def test_untrusted_forwarded_proto_cannot_poison_cached_pages(db, home_page, settings):
    settings.TRUSTED_PROXIES = []
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PAGE_CACHE_SECONDS = 300
    poisoned = Client(REMOTE_ADDR="203.0.113.5").get("/", HTTP_X_FORWARDED_PROTO="https")
    assert '<link rel="canonical" href="http://testserver/">' in poisoned.content.decode()
    normal = Client().get("/")
    assert "https://testserver" not in normal.content.decode()


def test_trusted_proxy_scheme_is_believed_and_cached_apart(db, home_page, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PAGE_CACHE_SECONDS = 300
    secure = Client(REMOTE_ADDR=PROXY, HTTP_HOST="testserver").get("/", HTTP_X_FORWARDED_PROTO="https")
    assert '<link rel="canonical" href="https://testserver/">' in secure.content.decode()
    plain = Client(REMOTE_ADDR=PROXY).get("/")
    assert '<link rel="canonical" href="http://testserver/">' in plain.content.decode()


@override_settings(TRUSTED_PROXIES=[PROXY])
def test_password_protected_pages_are_throttled_per_visitor(db, campaign):
    restriction = PageViewRestriction.objects.create(
        page=campaign, restriction_type="password", password="会员专享2024")
    url = f"/_util/authenticate_with_password/{restriction.pk}/{campaign.pk}/"
    guesser = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for attempt in range(5):
        assert guesser.post(url, {"password": f"guess{attempt}", "return_url": campaign.url}).status_code == 200
    locked = guesser.post(url, {"password": "会员专享2024", "return_url": campaign.url})
    assert locked.status_code == 429 and "密码错误次数过多" in locked.content.decode()
    member = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert member.post(url, {"password": "会员专享2024", "return_url": campaign.url}).status_code == 302
