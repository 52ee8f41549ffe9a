"""Wagtail's generic search paths on Chinese text: the admin's choosers (autocomplete) and query trees."""

import pytest
from django.contrib.auth.models import User
from modelsearch.query import Boost, PlainText

from speeches.models import SpeechPage
from speeches.tests.factories import SpeakerFactory, SpeechPageFactory

pytestmark = pytest.mark.django_db


def publish(parent, slug, title, text):
    page = SpeechPageFactory(parent=parent, slug=slug, title=title, body=[("paragraph", f"<p>{text}</p>")])
    page.save_revision().publish()
    return page


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("admin1", password="x" * 12))
    return client


def test_page_chooser_completes_a_title_word_and_finds_whole_words_in_the_text(speech_index, admin_client):
    publish(speech_index, "title", "关于疗休养的讲话", "关心职工。")
    publish(speech_index, "body", "年度讲话", "做好疗休养工作。")
    html = admin_client.get("/admin/choose-page/search/", {"q": "疗休"}).content.decode()
    assert "关于疗休养的讲话" in html  # 疗休 is the start of the title's word 疗休养
    assert "年度讲话" not in html  # and no word of the text
    html = admin_client.get("/admin/choose-page/search/", {"q": "疗休养"}).content.decode()
    assert "关于疗休养的讲话" in html and "年度讲话" in html


def test_page_explorer_search_sorted_by_edit_date(speech_index, admin_client):
    publish(speech_index, "rest", "关于疗休养的讲话", "关心职工。")
    publish(speech_index, "study", "金秋助学", "资助困难职工子女。")
    response = admin_client.get(f"/admin/pages/{speech_index.pk}/",
                                {"q": "疗休", "ordering": "-latest_revision_created_at"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "关于疗休养的讲话" in html and "金秋助学" not in html


def test_snippet_chooser_completes_a_name(admin_client):
    SpeakerFactory(name="张三丰")
    SpeakerFactory(name="王建国")
    url = "/admin/snippets/choose/speeches/speaker/results/"
    html = admin_client.get(url, {"q": "张三"}).content.decode()
    assert "张三丰" in html and "王建国" not in html
    html = admin_client.get(url, {"q": "建国"}).content.decode()  # a whole word inside the name
    assert "王建国" in html and "张三丰" not in html


def test_negation_and_boost_on_chinese_words(speech_index):
    publish(speech_index, "both", "疗休养安排", "组织职工疗休养。")
    publish(speech_index, "rest", "疗休养通知", "组织劳模疗休养。")
    publish(speech_index, "study", "金秋助学", "资助困难职工子女。")
    live = SpeechPage.objects.live()

    def slugs(query):
        return [page.slug for page in live.search(query)]

    assert slugs(PlainText("疗休养") & ~PlainText("职工")) == ["rest"]
    assert set(slugs(~PlainText("疗休养"))) == {"study"}
    assert slugs(PlainText("劳模") | Boost(PlainText("资助"), 10)) == ["study", "rest"]
    assert slugs(PlainText("劳模") | Boost(PlainText("资助"), 0.1)) == ["rest", "study"]


def test_autocomplete_takes_any_input_as_data(speech_index, admin_client):
    from search.tests.test_backend import HOSTILE

    publish(speech_index, "rest", "关于疗休养的讲话", "关心职工。")
    for query in HOSTILE:
        assert isinstance(list(SpeechPage.objects.live().autocomplete(query)[:10]), list)
        assert admin_client.get("/admin/choose-page/search/", {"q": query}).status_code == 200
