"""The search page's QR code and share link keep the query; its canonical URL does not."""

import pytest

from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


def test_search_share_box_keeps_the_query(client, speech_index):
    page = SpeechPageFactory(parent=speech_index, slug="card", title="会员服务卡讲话",
                             body=[("paragraph", "<p>扩大会员服务卡覆盖面。</p>")])
    page.save_revision().publish()
    html = client.get("/search/", {"q": "服务卡", "year": "2024"}).content.decode()
    assert '<link rel="canonical" href="http://testserver/search/">' in html
    share = html[html.index('class="share-link"'):]
    shown = share[share.index(">") + 1:share.index("</span>")]
    assert shown.startswith("http://testserver/search/?") and "q=%E6%9C%8D%E5%8A%A1%E5%8D%A1" in shown
    assert "year=2024" in shown
    plain = client.get("/search/").content.decode()
    assert '<span class="share-link">http://testserver/search/</span>' in plain
