"""The per-process speech catalog behind search counts and facets: reused while nothing changes, rebuilt at once
when the database says something it holds has changed (database triggers, so writes that bypass Django's
signals count too), never serving a rolled-back change."""

import datetime

import pytest
from django.db import transaction
from wagtail.models import PageViewRestriction
from wagtail.search.backends import get_search_backend

from speeches.models import Speaker, SpeechPage
from speeches.search.catalog import current_token
from speeches.search.catalog import speech_catalog as catalog_of
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_speeches(speech_index):
    wang = Speaker.objects.create(name="王强", post="主席", organisation="市总工会")
    pages = []
    for slug, title, level in (("c1", "职工书屋建设推进会讲话", "city"), ("c2", "职工书屋工作总结", "county")):
        page = SpeechPageFactory(parent=speech_index, slug=slug, title=title, speaker=wang, org_level=level,
                                 date_delivered=datetime.date(2024, 4, 1),
                                 body=[("paragraph", "<p>建好职工书屋，服务职工读书。</p>")])
        page.save_revision().publish()
        pages.append(page)
    return pages


def speech_catalog():
    """The catalog the configured backend searches with (by index entry for the databases, by page for ES)."""
    return catalog_of(by_entry=hasattr(get_search_backend(), "entry_scores"))


def search(client, **params):
    data = client.get("/api/search/", {"q": "职工书屋", **params}).json()
    data["facet_values"] = {name: {i["value"]: i["count"] for i in items} for name, items in data["facets"].items()}
    return data


def test_catalog_is_reused_while_nothing_it_holds_changes(client, two_speeches):
    search(client)
    first = speech_catalog()
    assert search(client)["count"] == 2
    assert speech_catalog() is first
    # A draft edit changes nothing the public can search.
    page = two_speeches[0]
    page.title = "草稿标题"
    page.save_revision()
    assert speech_catalog() is first
    assert len(first.page) == 2 and set(first.page.values()) == {p.pk for p in two_speeches}


def test_every_kind_of_change_reaches_the_next_search(client, speech_index, two_speeches):
    before = search(client)
    assert before["facet_values"]["level"] == {"city": 1, "county": 1}

    # Writes that bypass page signals (bulk updates) still invalidate: the triggers see them.
    token = current_token()
    SpeechPage.objects.filter(pk=two_speeches[1].pk).update(org_level="city")
    assert current_token() != token
    assert search(client)["facet_values"]["level"] == {"city": 2}

    Speaker.objects.filter(name="王强").update(name="王刚")
    assert search(client)["facet_values"]["speaker"] == {"王刚": 2}

    page = SpeechPage.objects.get(pk=two_speeches[0].pk)
    page.topics.add("职工文化")
    page.save()
    assert search(client)["facet_values"]["topic"] == {"职工文化": 1}
    assert [r["title"] for r in search(client, topic="职工文化")["results"]] == ["职工书屋建设推进会讲话"]

    new = SpeechPageFactory(parent=speech_index, slug="c3", title="职工书屋示范点授牌讲话",
                            date_delivered=datetime.date(2025, 1, 2), body=[("paragraph", "<p>职工书屋。</p>")])
    new.save_revision().publish()
    after_publish = search(client)
    assert after_publish["count"] == 3 and after_publish["facet_values"]["year"] == {"2024": 2, "2025": 1}

    PageViewRestriction.objects.create(page=new, restriction_type=PageViewRestriction.PASSWORD, password="x")
    assert search(client)["count"] == 2

    two_speeches[1].unpublish()
    assert [r["title"] for r in search(client)["results"]] == ["职工书屋建设推进会讲话"]

    SpeechPage.objects.get(pk=two_speeches[0].pk).delete()
    assert search(client)["count"] == 0


def test_a_rolled_back_change_is_never_served(client, speech_index, two_speeches):
    search(client)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        page = SpeechPageFactory(parent=speech_index, slug="c9", title="职工书屋回滚测试",
                                 body=[("paragraph", "<p>职工书屋。</p>")])
        page.save_revision().publish()
        assert search(client)["count"] == 3  # seen inside the transaction that made it
        raise Abort
    data = search(client)
    assert data["count"] == 2 and "职工书屋回滚测试" not in {r["title"] for r in data["results"]}


def test_missing_generation_row_is_recreated(client, two_speeches):
    from search.models import IndexGeneration

    IndexGeneration.objects.all().delete()
    assert search(client)["count"] == 2
    assert IndexGeneration.objects.filter(pk=1).exists()


def test_best_ranked_entries_that_are_not_public_do_not_hide_public_ones(client, speech_index):
    """The database's own top-N is mostly drafts here (title matches outrank body matches), so the page must
    come from ranking every public match instead."""
    for n in range(45):
        SpeechPageFactory(parent=speech_index, slug=f"draft-{n}", title=f"职工书屋草稿{n}", live=False,
                          body=[("paragraph", "<p>职工书屋。</p>")])
    public = []
    for n in range(12):
        page = SpeechPageFactory(parent=speech_index, slug=f"pub-{n}", title=f"读书活动讲话{n}",
                                 date_delivered=datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
                                 body=[("paragraph", "<p>建好职工书屋。</p>")])
        page.save_revision().publish()
        public.append(page.title)
    first, second = search(client), search(client, page="2")
    assert first["count"] == 12
    titles = [r["title"] for r in first["results"]] + [r["title"] for r in second["results"]]
    assert titles == public[::-1]  # equal scores: later dates first
