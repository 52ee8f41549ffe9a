"""Search behaviour on a real Elasticsearch server (the same expectations as on SQLite and PostgreSQL)."""

import datetime
from collections import Counter

import pytest
from django.core.management import call_command
from wagtail.search.backends import get_search_backend

from search.analysis import analyse_query
from search.backends.elasticsearch import highlight
from search.tests.test_backend import HOSTILE
from speeches.models import SpeechPage
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


def slugs(results):
    return [page.slug for page in results]


def test_backend_is_elasticsearch_with_whitespace_analysis(es_backend):
    backend = get_search_backend()
    assert backend.vendor == "elasticsearch"
    index = backend.get_index_for_model(SpeechPage)
    mapping = backend.es.indices.get_mapping(index=index.name)
    props = next(iter(mapping.body.values()))["mappings"]["properties"]
    assert props["title"]["analyzer"] == "whitespace"
    assert props["_all_text"]["analyzer"] == "whitespace"
    assert props["speeches_speechpage__body"]["analyzer"] == "whitespace"
    assert all("edgengram" not in str(value) for value in props.values())


@pytest.fixture
def es_corpus(es_backend, imported_corpus):
    call_command("update_index", verbosity=0)
    return imported_corpus


def test_search_on_the_real_corpus(es_corpus, client):
    live = SpeechPage.objects.live()
    for word in ["服务卡", "会员服务卡", "食堂", "师德", "工资集体协商"]:
        results = live.search(word)
        assert results.count() >= 1, word
        for page in results:
            assert word in page.title + page.plain_text() + page.summary + page.meeting
    assert slugs(live.search("服务卡"))[:1] == ["speech-10"]

    # Synonyms are expanded in the query.
    direct = set(slugs(live.search("职工代表大会")))
    assert direct and direct <= set(slugs(live.search("职代会")))

    # Queries are data, never syntax.
    for query in HOSTILE:
        results = live.search(query)
        assert isinstance(list(results[:10]), list)
        assert results.count() >= 0
        assert isinstance(highlight(results[:10]), dict)

    # Quoted text is an exact phrase.
    assert "speech-10" in slugs(live.search('"职工医疗互助"'))
    phrase = slugs(live.search('"工会工作"'))
    assert phrase
    for page in live.search('"工会工作"'):
        assert "工会工作" in (page.title + page.plain_text()).replace(" ", "")
    assert live.search('"互助医疗职工"').count() == 0

    # Several words: all of them, falling back to any of them (ranked lower).
    for page in live.search("师德 工会"):
        text = page.title + page.plain_text()
        assert "师德" in text and "工会" in text
    either = live.search("服务卡 师德")
    assert "speech-10" in slugs(either) and either.count() > 1
    scored_all = live.search("师德 工会").annotate_score("score")[:1]
    scored_any = live.search("服务卡 师德").annotate_score("score")[:1]
    assert list(scored_any)[0].score < list(scored_all)[0].score * 10

    # Facets with counts, on the filtered set.
    results = live.search("工会")
    levels = results.facet("org_level")
    assert sum(levels.values()) == results.count()
    # The same counts the database backends give (None for pages without a speaker).
    assert dict(live.search("工会").facet("speaker_id")) == dict(Counter(page.speaker_id for page in results))
    assert dict(levels) == dict(Counter(page.org_level for page in results))
    level = next(key for key in levels if key)
    filtered = live.filter(org_level=level).search("工会")
    assert filtered.count() == levels[level]
    assert all(page.org_level == level for page in filtered)

    # Sorting by a field gives the same set.
    by_date = slugs(live.order_by("-date_delivered").search("工会", order_by_relevance=False))
    assert sorted(by_date) == sorted(slugs(results))

    # Highlighted snippets from Elasticsearch's highlighter.
    page_of_results = live.search("服务卡")[:5]
    snippets = highlight(page_of_results)
    top = SpeechPage.objects.get(slug="speech-10")
    assert "<mark>服务卡</mark>" in snippets[top.pk]
    assert "\u2009" not in snippets[top.pk]
    assert set(snippets) == {page.pk for page in page_of_results}

    # The database backends' match_scores() contract (used by the search page's service).
    scores = get_search_backend().match_scores(SpeechPage, analyse_query("服务卡"))
    assert max(scores, key=scores.get) == str(top.pk)
    both = get_search_backend().match_scores(SpeechPage, analyse_query("服务卡 师德"), mode="all")
    either_scores = get_search_backend().match_scores(SpeechPage, analyse_query("服务卡 师德"), mode="any")
    assert set(both) < set(either_scores) and str(top.pk) in either_scores

    # Wagtail API v2 ?search= and the admin's page search.
    response = client.get("/api/v2/pages/", {"search": "服务卡", "type": "speeches.SpeechPage"})
    assert response.status_code == 200
    assert top.title in [item["title"] for item in response.json()["items"]]


def test_snippet_escapes_html(es_backend, speech_index):
    page = SpeechPageFactory(parent=speech_index, slug="esc", title="讲话",
                             body=[("paragraph", "<p>&lt;script&gt;alert(1)&lt;/script&gt; 开展金秋助学活动。</p>")])
    page.save_revision().publish()
    snippet = highlight(SpeechPage.objects.live().search("金秋助学")[:10])[page.pk]
    assert "<mark>金秋助学</mark>" in snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet


def test_snippet_shows_traditional_text_and_punctuation_as_written(es_backend, speech_index):
    page = SpeechPageFactory(parent=speech_index, slug="trad", title="講話",
                             body=[("paragraph", "<p>推廣會員服務卡，開展ＡＢＣ活動。</p>")])
    page.save_revision().publish()
    snippet = highlight(SpeechPage.objects.live().search("会员服务卡")[:10])[page.pk]
    assert "<mark>會員服務卡</mark>" in snippet and "推廣" in snippet and "，開展ＡＢＣ活動" in snippet
    assert "会员" not in snippet and "推广" not in snippet


def test_rebuild_switches_alias_and_matches_incremental(es_backend, speech_index):
    for n, text in enumerate(["工资集体协商要点", "厂务公开和职代会", "农民工小额担保贷款", "工人先锋号创建"]):
        page = SpeechPageFactory(parent=speech_index, slug=f"s{n}", date_delivered=datetime.date(2024, 1, n + 1),
                                 body=[("paragraph", f"<p>{text}。</p>")])
        page.save_revision().publish()
    queries = ["集体协商", "职工代表大会", "担保贷款", "先锋号", "工会 农民工", '"厂务公开"']
    before = {q: slugs(SpeechPage.objects.live().search(q)) for q in queries}
    call_command("update_index", verbosity=0)
    after = {q: slugs(SpeechPage.objects.live().search(q)) for q in queries}
    assert before == after
    assert before["集体协商"] == ["s0"] and before["职工代表大会"] == ["s1"]
    alias = es_backend.get_index_for_model(SpeechPage)
    assert alias.is_alias()
    first = [index.name for index in alias.aliased_indices()]
    call_command("update_index", verbosity=0)
    second = [index.name for index in alias.aliased_indices()]
    assert len(first) == len(second) == 1 and first != second
    assert not es_backend.es.indices.exists(index=first[0])


def test_sort_by_date_and_filter_by_year(es_backend, speech_index):
    for n, day in enumerate([datetime.date(2023, 5, 1), datetime.date(2025, 1, 2), datetime.date(2024, 3, 4)]):
        SpeechPageFactory(parent=speech_index, slug=f"d{n}", date_delivered=day,
                          body=[("paragraph", "<p>推进厂务公开。</p>")]).save_revision().publish()
    live = SpeechPage.objects.live()
    assert slugs(live.order_by("-date_delivered").search("厂务公开", order_by_relevance=False)) == ["d1", "d2", "d0"]
    assert slugs(live.order_by("date_delivered").search("厂务公开", order_by_relevance=False)) == ["d0", "d2", "d1"]
    in_2024 = live.filter(date_delivered__year=2024).search("厂务公开")
    assert slugs(in_2024) == ["d2"]
    assert dict(live.search("厂务公开").facet("date_delivered")) == {
        datetime.date(2023, 5, 1): 1, datetime.date(2025, 1, 2): 1, datetime.date(2024, 3, 4): 1}
