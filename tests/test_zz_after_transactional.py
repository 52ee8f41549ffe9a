"""pytest-django runs transactional tests last and flushes the database after each one; the second
live-server test in a run must still find the site (conftest.home_page rebuilds it)."""

from django.contrib.auth.models import Group
from wagtail.models import Site

from home.models import HomePage


def test_site_available_after_a_flush(transactional_db, home_page, client):
    assert HomePage.objects.count() == 1
    assert Site.objects.get(is_default_site=True).root_page_id == home_page.pk
    assert Group.objects.filter(name__in=["编辑", "审核"]).count() == 2
    assert client.get("/").status_code == 200
