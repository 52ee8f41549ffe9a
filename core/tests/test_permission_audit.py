"""Walk every admin URL as an anonymous visitor and as a plain editor: no personal data may come back."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from campaigns.models import CampaignIndexPage, CampaignPage, Enrolment
from core.roles import EDITORS

ID_NUMBER = "11010519491231002X"
MOBILE = "13912345678"
NAME = "审计专用姓名"


def admin_patterns(resolver=None, prefix=""):
    """(route string, pattern) for every URL pattern below /admin/ and /django-admin/."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from admin_patterns(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith(("admin/", "django-admin/", "^django-admin/")):
            yield route


def concrete_urls(routes, ids, labels):
    """Fill each route's parameters with ids of real objects and real app/model labels."""
    urls = set()
    for route in routes:
        if route.startswith("^") or "(?P" in route:
            route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route.lstrip("^").replace("$", ""))
        params = re.findall(r"<(?:(\w+):)?(\w+)>", route)
        if not params:
            urls.add("/" + route)
            continue
        for pk in ids:
            for app_label, model_name in labels:
                url = route
                for converter, name in params:
                    if converter == "int" or name.endswith(("id", "pk")) or name in {"pk", "object_id"}:
                        value = str(pk)
                    elif "app" in name:
                        value = app_label
                    elif "model" in name:
                        value = model_name
                    elif name in {"fmt", "format"}:
                        value = "csv"
                    else:
                        value = str(pk)
                    url = re.sub(r"<(?:\w+:)?" + name + ">", value, url, count=1)
                urls.add("/" + url.replace("\\", ""))
    return sorted(urls)


@pytest.fixture
def enrolment(home_page):
    index = CampaignIndexPage(title="活动专题", slug="campaigns-audit")
    home_page.add_child(instance=index)
    today = timezone.localdate()
    campaign = CampaignPage(
        title="审计活动", slug="audit", start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=30),
    )
    index.add_child(instance=campaign)
    enrolment = Enrolment(campaign=campaign, block_id="b1", form_kind="mutual_aid", form_title="报名", name=NAME,
                          mobile=MOBILE, employer="单位", branch="基层工会")
    enrolment.set_id_number(ID_NUMBER)
    enrolment.save()
    return enrolment


def leaks(content):
    text = content.decode("utf-8", "replace")
    return [value for value in (ID_NUMBER, MOBILE, NAME) if value in text]


def audit(client, urls):
    problems = []
    for url in urls:
        try:
            response = client.get(url)
        except Exception as exc:  # an admin view crashing on a made-up id is not a leak; record it separately
            problems.append((url, f"error {type(exc).__name__}"))
            continue
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
        else:
            body = response.content
        found = leaks(body)
        if found:
            problems.append((url, found))
    return [p for p in problems if not str(p[1]).startswith("error")]


def test_no_admin_url_leaks_personal_data(client, enrolment):
    routes = list(admin_patterns())
    ids = sorted({enrolment.pk, enrolment.campaign.pk, enrolment.campaign.get_parent().pk})
    labels = [("campaigns", "enrolment"), ("campaigns", "campaignpage")]
    urls = concrete_urls(routes, ids, labels)
    assert len(urls) > 200  # the walk really covers the admin
    assert any("enrolment" in url for url in urls)

    assert audit(client, urls) == [], "anonymous"

    editor = get_user_model().objects.create_user("plain-editor", password="pw-editor-12345")
    editor.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(editor)
    assert audit(client, urls) == [], "editor"


def test_audit_detects_a_leak(client, enrolment):
    """The walk must be able to see personal data where it is allowed: a superuser's enrolment pages show it."""
    admin = get_user_model().objects.create_superuser("audit-admin", "a@example.com", "pw-admin-12345")
    client.force_login(admin)
    urls = concrete_urls(list(admin_patterns()), [enrolment.pk], [("campaigns", "enrolment")])
    assert audit(client, [u for u in urls if "enrolment" in u])
