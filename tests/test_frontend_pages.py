"""Server-side checks of the public templates: 长辈模式 switch, meta/sharing tags, QR code, images, form errors."""

import json
import re
from html import unescape

import pytest
from django import forms
from django.template.loader import render_to_string
from django.test import RequestFactory

from speeches.models import SpeechPage
from tests.frontend_support import SPEECH_SLUG, SPEECH_TITLE, build_public_site, visible_text_urls


@pytest.fixture
def public_site(speech_index, home_page, settings):
    settings.SPEECHES_PER_PAGE = 3
    about, speech = build_public_site(home_page, speech_index)
    return {"about": about, "speech": speech}


PAGES = ["/", "/speeches/", f"/speeches/{SPEECH_SLUG}/", "/about/", "/search/?q=工会", "/search/?q=无此内容xyz",
         "/speeches/?year=2099"]


def meta(html, name, attr="name"):
    found = re.search(rf'<meta {attr}="{re.escape(name)}" content="([^"]*)"', html)
    return unescape(found.group(1)) if found else None


def test_elder_switch_sets_cookie_and_returns_to_the_page(client, home_page):
    response = client.get("/elder-mode/", {"on": "1", "next": "/speeches/?year=2023"})
    assert response.status_code == 302 and response["Location"] == "/speeches/?year=2023"
    cookie = response.cookies["elder_mode"]
    assert cookie.value == "1" and int(cookie["max-age"]) >= 30 * 24 * 3600 and cookie["samesite"] == "Lax"
    assert "no-store" in response["Cache-Control"]
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans" class="elder">' in html
    assert "退出长辈模式" in html and 'href="/elder-mode/?on=0&amp;next=/"' in html
    off = client.get("/elder-mode/", {"on": "0", "next": "/"})
    assert off.status_code == 302 and off.cookies["elder_mode"].value == ""
    assert '<html lang="zh-hans" class="">' in client.get("/").content.decode()


OFF_SITE = ["http://evil.example/", "//evil.example/x", "https://evil.example", "javascript:alert(1)", "",
            "\\\\evil.example", "/\\evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_elder_switch_never_redirects_off_site(client, home_page, target):
    response = client.get("/elder-mode/", {"on": "1", "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_elder_switch_link_points_back_to_the_current_page(client, home_page, speech_index):
    html = client.get("/speeches/", {"year": "2023", "level": "city"}).content.decode()
    assert 'href="/elder-mode/?on=1&amp;next=/speeches/%3Fyear%3D2023%26level%3Dcity"' in html
    assert 'rel="nofollow"' in html


def test_html_varies_on_cookie(client, public_site):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Cookie" in response["Vary"], path


def test_every_page_has_description_canonical_and_open_graph(client, public_site):
    for path in PAGES + ["/no-such-page/"]:
        response = client.get(path)
        html = response.content.decode()
        description = meta(html, "description")
        assert description and description.strip(), path
        canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html).group(1)
        assert canonical.startswith("http://testserver/"), path
        for prop in ["og:title", "og:description", "og:image", "og:url", "og:type"]:
            assert meta(html, prop, "property"), (path, prop)
        assert meta(html, "og:image", "property").startswith("http://testserver/"), path
        assert re.search(r"<title>[^<]+ - 市总工会</title>", html), path


def test_descriptions_come_from_the_page(client, public_site):
    speech = public_site["speech"]
    html = client.get(speech.url).content.decode()
    assert meta(html, "description") == SpeechPage.objects.get(pk=speech.pk).description
    about = client.get("/about/").content.decode()
    assert meta(about, "description").startswith("市总工会宣传门户由市总工会宣传部主办")
    home = client.get("/").content.decode()
    assert meta(home, "description") == "市总工会宣传门户：讲话稿、活动专题与会员服务"  # home has no intro here


def test_titles_say_where_you_are(client, public_site):
    html = client.get(f"/speeches/{SPEECH_SLUG}/").content.decode()
    assert f"<title>{SPEECH_TITLE} - 讲话稿库 - 市总工会</title>" in html
    assert "<title>讲话稿库（2023年）（市级） - 市总工会</title>" in client.get(
        "/speeches/", {"year": "2023", "level": "city"}).content.decode()


def json_ld(html):
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)) if found else None


def test_json_ld_article_on_speech_and_organization_on_home(client, public_site):
    article = json_ld(client.get(f"/speeches/{SPEECH_SLUG}/").content.decode())
    assert article["@type"] == "Article" and article["headline"] == SPEECH_TITLE
    assert article["publisher"]["name"] == "市总工会" and article["inLanguage"] == "zh-CN"
    assert article["mainEntityOfPage"] == f"http://testserver/speeches/{SPEECH_SLUG}/"
    assert article["image"][0].startswith("http://testserver/media/images/")
    assert "datePublished" in article
    organisation = json_ld(client.get("/").content.decode())
    assert organisation["@type"] == "Organization" and organisation["name"] == "市总工会"
    assert organisation["url"] == "http://testserver/" and organisation["telephone"] == "12351"
    assert json_ld(client.get("/about/").content.decode()) is None


def test_json_ld_cannot_be_broken_by_a_title(client, speech_index):
    from speeches.tests.factories import SpeechPageFactory

    page = SpeechPageFactory(parent=speech_index, title="</script><script>alert(1)</script>讲话")
    html = client.get(page.url).content.decode()
    assert json_ld(html)["headline"] == "</script><script>alert(1)</script>讲话"
    assert "<script>alert(1)" not in html


def test_qr_code_of_the_page_url_under_its_label(client, public_site):
    html = client.get(f"/speeches/{SPEECH_SLUG}/").content.decode()
    assert "手机扫码阅读/分享" in html
    svg = re.search(r"<svg [^>]*class=\"qr-code\"[^>]*>", html).group(0)
    assert 'role="img"' in svg and f"http://testserver/speeches/{SPEECH_SLUG}/" in svg
    import segno

    expected = segno.make(f"http://testserver/speeches/{SPEECH_SLUG}/", error="m")
    size = expected.symbol_size(scale=4, border=2)[0]
    assert f'viewBox="0 0 {size} {size}"' in svg


def test_speech_images_use_renditions_with_srcset_sizes_and_dimensions(client, public_site):
    html = client.get(f"/speeches/{SPEECH_SLUG}/").content.decode()
    img = re.search(r"<figure class=\"block-image\">\s*(<img [^>]+>)", html).group(1)
    assert 'alt="职工之家活动现场"' in img
    assert re.search(r'srcset="[^"]+ 400w, [^"]+ 800w, [^"]+ 1200w"', img)
    assert 'sizes="' in img and re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img)
    assert ".webp" in img and "/media/images/" in img
    assert 'loading="lazy"' in img


def test_no_external_urls_in_pages_or_styles(client, public_site, settings):
    for path in PAGES:
        html = client.get(path).content.decode()
        for url in visible_text_urls(html):
            assert url.startswith("http://testserver/"), (path, url)
    for name in ["css/site.css", "css/print.css", "js/read-aloud.js", "js/form-errors.js", "js/print-button.js",
                 "js/early.js"]:
        text = (settings.BASE_DIR / "static" / name).read_text(encoding="utf-8")
        assert "http" not in text and "@import" not in text and "//" not in text.replace("// ", ""), name


def test_read_aloud_controls_on_speech_pages(client, public_site):
    html = client.get(f"/speeches/{SPEECH_SLUG}/").content.decode()
    assert 'data-read-aloud="#speech-body">' in html
    assert '<script src="/static/js/early.js"></script>' in html  # marks browsers that can speak, before drawing
    assert "<script>" not in html  # no inline script: the site runs under a CSP with script-src 'self'
    assert 'style="' not in html
    for label in ["朗读全文", "暂停", "继续", "停止"]:
        assert f">{label}</button>" in html
    assert '<script src="/static/js/read-aloud.js" defer></script>' in html


def test_one_h1_skip_link_and_landmarks(client, public_site):
    for path in PAGES:
        html = client.get(path).content.decode()
        assert html.count("<h1") == 1, path
        assert '<a class="skip-link" href="#main">跳到正文</a>' in html
        assert '<main id="main"' in html and "<header" in html and "<footer" in html, path
        assert 'aria-label="主导航"' in html


def test_robots_txt(client, home_page):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text and "Disallow: /admin/" in text


class EnrolForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=20)
    phone = forms.CharField(label="手机号码", help_text="11 位手机号码")
    agree = forms.BooleanField(label="同意活动须知")


def test_form_error_summary_and_field_pattern(db):
    form = EnrolForm(data={"name": "", "phone": "123"})
    form.add_error("phone", "请输入 11 位手机号码")
    request = RequestFactory().get("/")
    html = render_to_string(
        "includes/form_errors.html", {"form": form}, request=request
    ) + "".join(render_to_string("includes/form_field.html", {"field": field}) for field in form)
    assert 'role="alert"' in html and 'tabindex="-1"' in html and "提交未成功，请修改以下 3 处问题" in html
    assert re.search(r'<a href="#id_name">姓名：[^<]+</a>', html)
    assert '<a href="#id_phone">手机号码：请输入 11 位手机号码</a>' in html
    phone = re.search(r'<input[^>]+id="id_phone"[^>]*>', html).group(0)
    assert 'aria-describedby="id_phone_helptext id_phone_error"' in phone and 'aria-invalid="true"' in phone
    assert '<p class="field-error" id="id_phone_error">请输入 11 位手机号码</p>' in html
    assert '<label for="id_name">姓名<span class="required">（必填）</span></label>' in html
    assert "form-errors.js" in html
    clean = EnrolForm()
    assert render_to_string("includes/form_errors.html", {"form": clean}).strip() == ""
    assert "aria-invalid" not in render_to_string("includes/form_field.html", {"field": clean["name"]})


def test_editor_must_give_alt_text_or_mark_image_decorative(db):
    from django.core.exceptions import ValidationError
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    from speeches.blocks import FigureBlock

    block = FigureBlock()
    image = Image.objects.create(title="合影", file=get_test_image_file())
    with pytest.raises(ValidationError):
        block.clean(block.to_python({"image": image.pk, "alt_text": "", "decorative": False}))
    assert block.clean(block.to_python({"image": image.pk, "alt_text": "职工合影", "decorative": False}))
    assert block.clean(block.to_python({"image": image.pk, "alt_text": "", "decorative": True}))
