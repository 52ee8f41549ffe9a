"""Search that forgives how people type: compound words, traditional characters, most words, pinyin, synonyms.

Through /search/ and /api/search/ on the real index (the real corpus, or speeches made here)."""

import pytest

from merchants.models import Category, Merchant
from speeches.models import Speaker
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


def api(client, **params):
    response = client.get("/api/search/", {"page_size": 50, **params})
    assert response.status_code == 200, response.content[:500]
    return response.json()


def slugs(data):
    return [r["url"].rstrip("/").rsplit("/", 1)[-1] for r in data["results"]]


def publish(parent, slug, text, title=None, summary=""):
    page = SpeechPageFactory(parent=parent, slug=slug, title=title or f"讲话{slug}", summary=summary,
                             body=[("paragraph", f"<p>{text}</p>")])
    page.save_revision().publish()
    return page


def suggested(client, q):
    response = client.get("/api/search/suggest/", {"q": q})
    assert response.status_code == 200
    return [s["text"] for s in response.json()["suggestions"]]


def test_on_the_real_corpus(client, indexed_corpus):
    # Compound words fall back to their parts: 学校食堂 is not in the text, 学校 and 食堂 are (篇一).
    data = api(client, q="学校食堂")
    assert slugs(data)[:1] == ["speech-01"] and data["results"][0]["match"] == "partial"
    assert "speech-14" in slugs(api(client, q="永修县"))  # the text says 永修
    assert slugs(api(client, q="小额贷款"))[:1] == ["speech-10"]
    # Traditional characters find what simplified ones find.
    pairs = (("會員服務卡", "会员服务卡"), ("職工醫療互助", "职工医疗互助"), ("職代會", "职代会"))
    for traditional, simplified in pairs:
        assert slugs(api(client, q=traditional)) == slugs(api(client, q=simplified)) != []
    assert "<mark>会员服务卡</mark>" in api(client, q="會員服務卡")["results"][0]["snippet"]
    # Questions: the question words are not required.
    assert slugs(api(client, q="怎么办理会员服务卡"))[:1] == ["speech-10"]
    assert slugs(api(client, q="疗休养怎么报名"))[:1] == ["speech-17"]
    # Synonyms both ways and inside a longer query word.
    laomo, full = set(slugs(api(client, q="劳模"))), set(slugs(api(client, q="劳动模范")))
    assert laomo == full and len(laomo) >= 5
    assert set(slugs(api(client, q="五一奖章"))) == set(slugs(api(client, q="五一劳动奖章"))) >= {"speech-11-2",
                                                                                            "speech-13"}
    assert {"speech-11-2", "speech-11-1", "speech-01"} <= set(slugs(api(client, q="教职代会")))
    # Pinyin: suggestions and, for a query that finds nothing, 「您是不是要找」.
    for typed in ("fuwuka", "fwk", "fu wu ka", "FuWuKa"):
        assert "服务卡" in suggested(client, typed), typed
    data = api(client, q="fuwuka")
    assert data["count"] == 0 and data["did_you_mean"] == "服务卡"
    html = client.get("/search/", {"q": "fuwuka"}).content.decode()
    assert "您是不是要找" in html and 'href="?q=%E6%9C%8D%E5%8A%A1%E5%8D%A1"' in html
    assert api(client, q="服务卡")["did_you_mean"] is None
    assert api(client, q="zzqxj")["did_you_mean"] is None


def test_exact_compound_ranks_above_its_parts_and_parts_are_partial(client, speech_index):
    publish(speech_index, "apart", "学校要办好。职工食堂要干净，学校里的饭菜要便宜。")
    publish(speech_index, "exact", "加强学校食堂管理。")
    data = api(client, q="学校食堂")
    assert slugs(data) == ["exact", "apart"]
    assert [r["match"] for r in data["results"]] == ["all", "partial"]
    assert (data["count"], data["count_all"], data["count_partial"]) == (2, 1, 1)
    assert slugs(api(client, q="学校食堂", match="all")) == ["exact"]
    assert "<mark>学校</mark>" in data["results"][1]["snippet"]


def test_all_words_first_then_most_words_marked_and_counted(client, speech_index):
    publish(speech_index, "three", "开展送温暖、金秋助学和疗休养活动。")
    publish(speech_index, "two", "开展送温暖和金秋助学活动。")
    publish(speech_index, "two-b", "组织疗休养，开展金秋助学。")
    publish(speech_index, "one", "开展送温暖活动。")
    data = api(client, q="送温暖 金秋助学 疗休养")
    assert slugs(data)[0] == "three" and set(slugs(data)) == {"three", "two", "two-b"}
    assert [r["match"] for r in data["results"]] == ["all", "partial", "partial"]
    assert (data["count"], data["count_all"], data["count_partial"]) == (3, 1, 2)
    only = api(client, q="送温暖 金秋助学 疗休养", match="all")
    assert slugs(only) == ["three"] and only["count"] == 1 and only["count_partial"] == 0
    html = client.get("/search/", {"q": "送温暖 金秋助学 疗休养"}).content.decode()
    assert html.count("部分匹配</span>") == 2 and "完全匹配 1 条，部分匹配 2 条" in html and "只看完全匹配" in html
    html = client.get("/search/", {"q": "送温暖 金秋助学 疗休养", "match": "all"}).content.decode()
    assert "部分匹配</span>" not in html and "two-b" not in html
    response = client.get("/api/search/", {"q": "送温暖", "match": "most"})
    assert response.status_code == 400 and "匹配方式" in response.json()["error"]
    # A quoted phrase stays exact in every tier; nothing holding most words: any word, marked partial.
    assert set(slugs(api(client, q='"金秋助学" 送温暖 疗休养'))) == {"three", "two", "two-b"}
    assert slugs(api(client, q='"助学金秋" 送温暖 疗休养')) == []
    either = api(client, q="疗休养 职工书屋")
    assert set(slugs(either)) == {"three", "two-b"} and {r["match"] for r in either["results"]} == {"partial"}


def test_traditional_text_is_found_by_simplified_and_shown_as_written(client, speech_index):
    publish(speech_index, "hant", "推廣工會會員服務卡，職工醫療互助要惠及更多職工。")
    for q in ("会员服务卡", "會員服務卡", "职工医疗互助"):
        data = api(client, q=q)
        assert slugs(data) == ["hant"], q
    snippet = api(client, q="会员服务卡")["results"][0]["snippet"]
    assert "<mark>工會會員服務卡</mark>" in snippet and snippet.startswith("推廣")
    html = client.get("/speeches/hant/", {"hl": "医疗互助"}).content.decode()
    assert "<mark>醫療互助</mark>" in html


def test_synonym_inside_a_longer_word_and_both_ways(client, speech_index):
    publish(speech_index, "full", "大力弘扬劳动模范精神。召开职工代表大会。")
    publish(speech_index, "short", "评选五一奖章获得者。开好职代会。")
    assert slugs(api(client, q="劳模精神")) == ["full"]
    assert slugs(api(client, q="五一劳动奖章")) == ["short"]
    assert set(slugs(api(client, q="职代会"))) == set(slugs(api(client, q="职工代表大会"))) == {"full", "short"}


def test_field_boosts_count(client, speech_index):
    publish(speech_index, "in-body", "做好职工疗休养工作。" + "关心职工生活。" * 5, summary="年度工作安排。")
    publish(speech_index, "in-summary", "做好年度工作。" + "关心职工生活。" * 5, summary="职工疗休养安排。")
    assert slugs(api(client, q="疗休养")) == ["in-summary", "in-body"]


def test_pinyin_suggestions_for_titles_speakers_merchants(client, speech_index):
    Speaker.objects.create(name="张明", post="主席", organisation="市总工会")
    publish(speech_index, "card", "扩大覆盖面。", title="推广会员服务卡的讲话")
    category = Category.objects.first() or Category.objects.create(name="餐饮")
    Merchant.objects.create(name="老王烧烤", category=category, discount="持卡9折")
    assert "张明" in suggested(client, "zhangming") and "张明" in suggested(client, "zm")
    assert "推广会员服务卡的讲话" in suggested(client, "fuwu")
    assert "推广会员服务卡的讲话" in suggested(client, "服务卡")
    assert "老王烧烤" in suggested(client, "laowang") and "老王烧烤" in suggested(client, "lwsk")
    Merchant.objects.filter(name="老王烧烤").update(active=False, name="老王烧烤")
    Merchant.objects.create(name="新华书店", category=category, discount="9折")
    assert "老王烧烤" not in suggested(client, "laowang") and "新华书店" in suggested(client, "xinhua")
    assert suggested(client, "") == [] and suggested(client, "\x00") == []
