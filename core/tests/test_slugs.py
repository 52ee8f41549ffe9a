"""New pages get short pinyin slugs; clashes are resolved on creation and explained in Chinese on edit."""

import pytest
from django.contrib.auth import get_user_model

from home.models import StandardPage
from search.slugs import pinyin_slug

TITLE = "在全市工会工作会议上的讲话"
BODY = ('{"blocks":[{"key":"a1","text":"正文","type":"unstyled","depth":0,"inlineStyleRanges":[],'
        '"entityRanges":[]}],"entityMap":{}}')


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("chief", "c@example.com", "pw-chief-12345"))
    return client


def create(admin_client, home_page, title, slug="", **extra):
    url = f"/admin/pages/add/home/standardpage/{home_page.pk}/"
    data = {"title": title, "slug": slug, "body": BODY, "action-publish": "发布",
            "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0", "comments-MIN_NUM_FORMS": "0",
            "comments-MAX_NUM_FORMS": "1000", **extra}
    return admin_client.post(url, data)


def test_pinyin_slug_is_short_ascii_and_cut_at_a_word():
    assert pinyin_slug(TITLE) == "zai-quanshi-gonghui-gongzuo-huiyi-shang"
    assert pinyin_slug("2024年工会工作报告") == "2024-nian-gonghui-gongzuo-baogao"
    long_slug = pinyin_slug("关于进一步加强新时代产业工人队伍建设改革深化职工素质提升工程的实施意见")
    assert len(long_slug) <= 40 and long_slug.isascii() and not long_slug.endswith("-")


def test_new_page_gets_a_pinyin_slug(admin_client, home_page):
    response = create(admin_client, home_page, TITLE)
    assert response.status_code == 302, response.content.decode()[:2000]
    page = StandardPage.objects.get(title=TITLE)
    assert page.slug == "zai-quanshi-gonghui-gongzuo-huiyi-shang" and page.live
    # what Wagtail's script sends when it strips the Chinese from "2024年…" is replaced too
    assert create(admin_client, home_page, "2024年工作报告", slug="2024").status_code == 302
    assert StandardPage.objects.get(title="2024年工作报告").slug == "2024-nian-gongzuo-baogao"


def test_same_title_again_and_abandoned_draft_do_not_block(admin_client, home_page):
    draft = StandardPage(title=TITLE, slug=pinyin_slug(TITLE), live=False)
    home_page.add_child(instance=draft)
    draft.save_revision()  # what autosave leaves behind
    assert create(admin_client, home_page, TITLE).status_code == 302
    assert create(admin_client, home_page, TITLE).status_code == 302
    slugs = sorted(StandardPage.objects.filter(title=TITLE).values_list("slug", flat=True))
    base = pinyin_slug(TITLE)
    assert slugs == sorted([base, f"{base}-2", f"{base}-3"])


def test_typed_slug_clash_on_edit_is_explained_in_chinese(admin_client, home_page):
    assert create(admin_client, home_page, "关于我们", slug="about").status_code == 302
    assert create(admin_client, home_page, "联系我们", slug="contact").status_code == 302
    contact = StandardPage.objects.get(slug="contact")
    response = admin_client.post(f"/admin/pages/{contact.pk}/edit/", {
        "title": "联系我们", "slug": "about", "body": BODY, "action-publish": "发布",
        "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0", "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "网址别名“about”已被同一栏目下的页面“关于我们”使用" in html
    assert "already in use" not in html
    contact.refresh_from_db()
    assert contact.slug == "contact"
