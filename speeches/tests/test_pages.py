import datetime

import pytest
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase

from home.models import HomePage, StandardPage
from speeches.models import Speaker, SpeechIndexPage, SpeechPage
from speeches.tests.factories import SpeakerFactory, SpeechPageFactory


class PageTreeRules(WagtailPageTestCase):
    def test_home(self):
        self.assertAllowedParentPageTypes(HomePage, {Page})
        from campaigns.models import CampaignIndexPage
        from merchants.models import MerchantDirectoryPage

        self.assertAllowedSubpageTypes(
            HomePage, {SpeechIndexPage, StandardPage, CampaignIndexPage, MerchantDirectoryPage}
        )

    def test_speech_index(self):
        self.assertAllowedParentPageTypes(SpeechIndexPage, {HomePage})
        self.assertAllowedSubpageTypes(SpeechIndexPage, {SpeechPage})

    def test_speech(self):
        self.assertAllowedParentPageTypes(SpeechPage, {SpeechIndexPage})
        self.assertAllowedSubpageTypes(SpeechPage, set())
        self.assertCanNotCreateAt(HomePage, SpeechPage)


@pytest.fixture
def speeches(speech_index):
    speaker = SpeakerFactory(name="李明", post="主席", organisation="市总工会")
    made = []
    for year, level in [(2022, "city"), (2023, "provincial"), (2024, "city")]:
        page = SpeechPageFactory(
            parent=speech_index,
            title=f"在{year}年全市工会工作会议上的讲话",
            date_delivered=datetime.date(year, 3, 5),
            org_level=level,
            speaker=speaker,
        )
        page.topics.add("职工维权")
        page.save_revision().publish()
        made.append(page)
    undated = SpeechPageFactory(parent=speech_index, title="日期不详的讲话", date_delivered=None, org_level="")
    made.append(undated)
    return made


def test_archive_newest_first_and_filters(client, speeches, speech_index):
    html = client.get(speech_index.url).content.decode()
    positions = [html.index(t) for t in ["2024年全市", "2023年全市", "2022年全市", "日期不详的讲话"]]
    assert positions == sorted(positions)
    assert '<option value="2023"' in html
    only_2023 = client.get(speech_index.url, {"year": "2023"}).content.decode()
    assert "2023年全市" in only_2023 and "2024年全市" not in only_2023
    city = client.get(speech_index.url, {"level": "city"}).content.decode()
    assert "2024年全市" in city and "2023年全市" not in city
    unknown = client.get(speech_index.url, {"level": "unknown"}).content.decode()
    assert "日期不详的讲话" in unknown and "2024年全市" not in unknown
    # nonsense filters and pages are ignored, not errors
    assert client.get(speech_index.url, {"year": "abc", "level": "<x>", "page": "999"}).status_code == 200


def test_archive_paginates(client, speech_index, settings):
    settings.SPEECHES_PER_PAGE = 2
    for n in range(5):
        SpeechPageFactory(parent=speech_index, title=f"讲话{n}", date_delivered=datetime.date(2020, 1, n + 1))
    first = client.get(speech_index.url).content.decode()
    assert "第 1 / 3 页" in first and "讲话4" in first and "讲话0" not in first
    last = client.get(speech_index.url, {"page": 3}).content.decode()
    assert "讲话0" in last


def test_speech_page_renders_metadata_and_related(client, speeches):
    page = speeches[2]
    response = client.get(page.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans"' in html
    assert "<h1>在2024年全市工会工作会议上的讲话</h1>" in html
    assert "李明" in html and "2024年3月5日" in html and "市级" in html
    assert 'aria-label="当前位置"' in html and "讲话稿库" in html
    assert "相关讲话" in html and speeches[1].title in html
    assert '<meta name="description" content="同志们，今年的工会工作要围绕服务职工展开。' in html


def test_unknown_date_says_so(client, speeches):
    html = client.get(speeches[3].url).content.decode()
    assert "<dd>不详</dd>" in html


def test_home_lists_latest_speeches(client, speeches, home_page):
    html = client.get("/").content.decode()
    assert "最新讲话" in html and "在2024年全市工会工作会议上的讲话" in html
    assert 'href="/speeches/"' in html  # navigation from show_in_menus


def test_no_external_assets(client, speeches):
    html = client.get(speeches[0].url).content.decode()
    for attr in ['src="http', "href=\"http", "src=\"//", "href=\"//"]:
        assert attr not in html.replace('href="http://testserver', "")


def test_feed_and_sitemap(client, speeches):
    feed = client.get("/speeches/feed/")
    assert feed.status_code == 200 and "application/rss+xml" in feed["Content-Type"]
    assert "在2024年全市工会工作会议上的讲话" in feed.content.decode()
    sitemap = client.get("/sitemap.xml").content.decode()
    assert speeches[0].url in sitemap


def test_404_in_chinese(client, home_page):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面未找到" in response.content.decode()


def test_500_page_is_chinese():
    from django.test import RequestFactory

    from core.views import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "服务器出了点问题" in response.content.decode()


def test_imported_corpus_renders(client, imported_corpus):
    for page in SpeechPage.objects.all():
        response = client.get(page.url)
        assert response.status_code == 200, page.title
    html = client.get(SpeechPage.objects.get(slug="speech-10").url).content.decode()
    assert '<h2 class="block-heading">一、关于工会会员服务卡发送工作</h2>' in html
    assert "本站小编" not in html


def test_speaker_snippet_str():
    speaker = Speaker(name="王芳", post="副主席", organisation="省总工会")
    assert str(speaker) == "省总工会 副主席 王芳"
