"""The JSON search API, the /search/ page and suggestions, through real requests."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speeches.models import Speaker, SpeechPage
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def speeches(speech_index):
    zhang = Speaker.objects.create(name="张明", post="主席", organisation="市总工会")
    li = Speaker.objects.create(name="李华", post="副主席", organisation="省总工会")
    data = [
        ("s1", "推广工会会员服务卡的讲话", zhang, datetime.date(2023, 5, 1), "city", ["服务"],
         "今年要扩大会员服务卡覆盖面。特惠商户要提供实实在在的优惠。"),
        ("s2", "在职代会上的讲话", li, datetime.date(2024, 3, 2), "provincial", ["民主管理"],
         "召开职工代表大会，推进厂务公开。服务卡办理情况也要向职工报告。"),
        ("s3", "疗休养工作部署", zhang, datetime.date(2024, 6, 3), "city", ["服务"],
         "组织劳动模范疗休养。关心困难职工，做好送温暖工作。"),
        ("s4", "没有日期的讲话", None, None, "", [], "做好职工医疗互助工作，开展金秋助学。"),
    ]
    pages = []
    for slug, title, speaker, date, level, topics, text in data:
        page = SpeechPageFactory(parent=speech_index, slug=slug, title=title, speaker=speaker, date_delivered=date,
                                 org_level=level, body=[("paragraph", f"<p>{text}</p>")])
        for topic in topics:
            page.topics.add(topic)
        page.save_revision().publish()
        pages.append(page)
    return pages


def api(client, **params):
    return client.get("/api/search/", params)


def test_api_shape(client, speeches):
    response = api(client, q="服务卡")
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"query", "count", "page", "results", "facets"}
    assert data["query"] == "服务卡" and data["page"] == 1 and data["count"] == 2
    first = data["results"][0]
    assert set(first) == {"title", "url", "date", "speaker", "level", "snippet", "score", "match"}
    assert first["match"] == "all" and data["count_all"] == 2 and data["count_partial"] == 0
    assert first["title"] == "推广工会会员服务卡的讲话"  # title match ranks first
    assert first["url"].endswith("/s1/") and first["date"] == "2023-05-01" and first["speaker"] == "张明"
    assert first["level"] == "city"
    assert "<mark>" in first["snippet"]
    assert set(data["facets"]) == {"year", "speaker", "level", "topic"}
    years = {item["value"]: item["count"] for item in data["facets"]["year"]}
    assert years == {"2023": 1, "2024": 1}


def test_filters_and_facets(client, speeches):
    data = api(client, q="职工", year="2024").json()
    assert {r["title"] for r in data["results"]} == {"在职代会上的讲话", "疗休养工作部署"}
    # Facets for a dimension ignore that dimension's own filter so visitors can switch.
    assert {i["value"] for i in data["facets"]["year"]} >= {"2024"}
    assert api(client, q="职工", speaker="李华").json()["count"] == 1
    assert api(client, q="职工", level="unknown").json()["results"][0]["title"] == "没有日期的讲话"
    assert api(client, q="服务", topic="民主管理").json()["count"] == 1
    levels = {i["value"]: i for i in api(client, q="职工").json()["facets"]["level"]}
    assert levels["city"]["label"] == "市级"


def test_sort_by_date_and_pagination(client, speeches):
    data = api(client, q="职工", sort="date").json()
    dates = [r["date"] for r in data["results"]]
    assert dates == sorted([d for d in dates if d], reverse=True) + [None] * dates.count(None)
    page1 = api(client, q="职工", page_size=1).json()
    page2 = api(client, q="职工", page_size=1, page=2).json()
    assert page1["count"] == page2["count"] >= 3
    assert page1["results"][0]["title"] != page2["results"][0]["title"]
    assert api(client, q="职工", page=99).json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [{"page": "abc"}, {"page": "0"}, {"page": "-1"}, {"page_size": "10000"}, {"page_size": "0"}, {"sort": "x"},
     {"year": "20x4"}, {"year": "99999"}, {"level": "planet"}, {"type": "x"}, {"page": "１"}],
)
def test_bad_parameters_get_400_in_chinese(client, speeches, params):
    response = api(client, q="服务卡", **params)
    assert response.status_code == 400
    message = response.json()["error"]
    assert any("\u4e00" <= c <= "\u9fff" for c in message)
    assert client.get("/search/", {"q": "服务卡", **params}).status_code == 400


def test_phrase_and_all_then_any(client, speeches):
    assert api(client, q='"医疗互助"').json()["count"] == 1
    assert api(client, q='"互助医疗"').json()["count"] == 0
    both = api(client, q="服务卡 厂务公开").json()
    assert [r["title"] for r in both["results"]] == ["在职代会上的讲话"]
    either = api(client, q="金秋助学 疗休养").json()
    assert {r["title"] for r in either["results"]} == {"没有日期的讲话", "疗休养工作部署"}


def test_unpublished_and_private_speeches_are_not_found(client, speeches):
    speeches[0].unpublish()
    assert [r["title"] for r in api(client, q="服务卡").json()["results"]] == ["在职代会上的讲话"]


def test_private_speeches_are_left_out_of_results_counts_and_facets(client, speeches):
    from wagtail.models import PageViewRestriction

    PageViewRestriction.objects.create(page=speeches[2], restriction_type=PageViewRestriction.PASSWORD,
                                       password="secret")
    data = api(client, q="职工").json()
    assert "疗休养工作部署" not in {r["title"] for r in data["results"]}
    assert data["count"] == 2
    assert {i["value"]: i["count"] for i in data["facets"]["year"]} == {"2024": 1}
    assert {i["value"]: i["count"] for i in data["facets"]["speaker"]} == {"李华": 1}


def test_facet_counts_ignore_only_their_own_filter(client, speeches):
    data = api(client, q="职工", speaker="张明", year="2024").json()
    assert [r["title"] for r in data["results"]] == ["疗休养工作部署"] and data["count"] == 1
    facets = {name: {i["value"]: i["count"] for i in items} for name, items in data["facets"].items()}
    # year counts: speaker filter applied, year filter not; speaker counts: year applied, speaker not
    assert facets["year"] == {"2024": 1}
    assert facets["speaker"] == {"李华": 1, "张明": 1}
    assert facets["level"] == {"city": 1}
    assert facets["topic"] == {"服务": 1}


def test_snippet_keeps_chinese_punctuation_and_matches_full_width_digits(client, speech_index):
    page = SpeechPageFactory(parent=speech_index, slug="fw", title="全角数字",
                             body=[("paragraph", "<p>开头一句。２０２４年，职工书屋建设取得进展；其他内容。</p>")])
    page.save_revision().publish()
    snippet = api(client, q="2024 职工书屋").json()["results"][0]["snippet"]
    assert snippet == "<mark>２０２４</mark>年，<mark>职工书屋</mark>建设取得进展；"


def test_search_page_renders_results_facets_and_highlight(client, speeches):
    response = client.get("/search/", {"q": "服务卡"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "推广工会会员服务卡的讲话" in html and "<mark>服务卡</mark>" in html
    assert "年份" in html and "讲话人" in html and "张明" in html
    assert "?hl=" in html
    assert html.index("推广工会会员服务卡的讲话") < html.index("在职代会上的讲话")


def test_zero_result_page_helps(client, speeches):
    html = client.get("/search/", {"q": "会员卡", "year": "2020"}).content.decode()
    assert "没有找到" in html and "去掉筛选条件" in html
    html = client.get("/search/", {"q": "服务"}).content.decode()
    assert "没有找到" not in html
    html = client.get("/search/", {"q": "送温暖 帮扶慰问 劳动模范 xyz"}).content.decode()
    assert "疗休养工作部署" in html


def test_type_filter_covers_other_pages(client, speeches, home_page):
    from wagtail.models import Page

    other = Page(title="服务卡特惠商户名录", slug="merchants")
    home_page.add_child(instance=other)
    other.save_revision().publish()
    html = client.get("/search/", {"q": "服务卡"}).content.decode()
    assert "服务卡特惠商户名录" in html
    html = client.get("/search/", {"q": "服务卡", "type": "page"}).content.decode()
    assert "服务卡特惠商户名录" in html and "推广工会会员服务卡的讲话" not in html


def test_suggestions(client, speeches):
    data = client.get("/api/search/suggest/", {"q": "服务"}).json()
    kinds = {s["kind"] for s in data["suggestions"]}
    texts = [s["text"] for s in data["suggestions"]]
    assert "term" in kinds and "服务卡" in texts
    assert "张明" in [s["text"] for s in client.get("/api/search/suggest/", {"q": "张"}).json()["suggestions"]]
    assert client.get("/api/search/suggest/", {"q": "\x00"}).json()["suggestions"] == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=300), extra=st.sampled_from(["", '"', "*", " AND ", " NEAR(", "\x00", "\u3000", "😀"]))
def test_arbitrary_strings_never_5xx(client, speeches, q, extra):
    for text in (q, extra + q + extra):
        assert api(client, q=text).status_code < 500
        assert client.get("/search/", {"q": text}).status_code < 500
        assert client.get("/api/search/suggest/", {"q": text}).status_code < 500


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["page", "page_size", "sort", "year", "speaker", "level", "topic",
                                               "type"]), st.text(max_size=20), max_size=4))
def test_arbitrary_parameters_never_5xx(client, speeches, params):
    response = api(client, q="职工", **params)
    assert response.status_code in (200, 400)
    assert client.get("/search/", {"q": "职工", **params}).status_code in (200, 400)


def test_speech_count_sanity(speeches):
    assert SpeechPage.objects.live().count() == 4


def test_topic_link_without_words_lists_speeches(client, speeches):
    data = api(client, topic="服务").json()
    assert {r["title"] for r in data["results"]} == {"推广工会会员服务卡的讲话", "疗休养工作部署"}
    assert [r["date"] for r in data["results"]] == ["2024-06-03", "2023-05-01"]
    html = client.get("/search/", {"topic": "服务"}).content.decode()
    assert "疗休养工作部署" in html
    assert api(client).json()["count"] == 0


def test_related_speeches_share_keywords(speech_index):
    texts = {
        "a": "推进职工医疗互助，扩大会员服务卡覆盖面，职工医疗互助要惠及困难职工。",
        "b": "职工医疗互助活动全面启动，会员服务卡发送到每位会员。",
        "c": "学校要抓好师德师风建设和教学质量。",
    }
    pages = {}
    for slug, text in texts.items():
        page = SpeechPageFactory(parent=speech_index, slug=slug, title=f"讲话{slug}",
                                 body=[("paragraph", f"<p>{text}</p>")])
        page.save_revision().publish()
        pages[slug] = SpeechPage.objects.get(pk=page.pk)
    related = pages["a"].related_speeches()
    assert [p.slug for p in related][:1] == ["b"]
    assert pages["a"] not in related


def test_equal_scores_page_through_by_date_then_newest_first(client, speech_index):
    # 30 identical speeches tie on relevance: the engine's top-N cannot prove the order, the full ranking must.
    for day in range(1, 31):
        page = SpeechPageFactory(parent=speech_index, slug=f"tie-{day}", title="职工书屋建设讲话",
                                 date_delivered=datetime.date(2024, 1, day),
                                 body=[("paragraph", "<p>推进职工书屋建设。</p>")])
        page.save_revision().publish()
    dates = [api(client, q="职工书屋", page_size=1, page=n).json()["results"][0]["date"] for n in range(1, 31)]
    assert dates == [f"2024-01-{day:02d}" for day in range(30, 0, -1)]
