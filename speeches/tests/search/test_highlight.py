"""Search words highlighted on the speech page when arriving with ?hl=."""

import pytest

from speeches.templatetags.search_highlight import highlight_terms, mark_terms_in_html

pytestmark = pytest.mark.django_db

URL = "/speeches/speech-10/"


def test_hl_marks_words_in_paragraphs(client, imported_corpus):
    response = client.get(URL, {"hl": "服务卡"})
    assert response.status_code == 200
    html = response.content.decode()
    body = html[html.index('id="speech-body"'):]
    paragraphs = [part.split("</div>")[0] for part in body.split('class="block-paragraph"')[1:]]
    assert any("<mark>服务卡</mark>" in p for p in paragraphs)
    assert "已高亮显示搜索词：服务卡" in html
    assert f'<a href="{URL}">取消高亮</a>' in html
    # Title and metadata are not marked.
    assert "<mark>" not in html[: html.index('id="speech-body"')]


def test_no_hl_no_marks(client, imported_corpus):
    html = client.get(URL).content.decode()
    assert "<mark>" not in html and "取消高亮" not in html


def test_script_in_hl_is_escaped(client, imported_corpus):
    response = client.get(URL, {"hl": "<script>alert(1)</script>服务卡"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "<mark>服务卡</mark>" in html
    response = client.get(URL, {"hl": '"><img src=x onerror=alert(1)>'})
    assert response.status_code == 200
    assert "onerror=alert(1)>" not in response.content.decode().replace("&gt;", "")


def test_terms_limited_and_filtered():
    terms = highlight_terms(" ".join(f"词语{i}号" for i in range(30)) + " a")
    assert 0 < len(terms) <= 10 and "a" not in terms


def test_only_text_of_paragraphs_and_headings_is_touched():
    markup = ('<div class="block-paragraph"><p title="服务卡">服务卡 &amp; <a href="/服务卡/">会员服务卡</a></p></div>'
              '<h2 class="block-heading">服务卡</h2><figure><figcaption>服务卡</figcaption></figure>'
              '<blockquote class="block-quote">服务卡</blockquote>')
    out = mark_terms_in_html(markup, ["服务卡", "amp"])
    assert '<p title="服务卡">' in out and 'href="/服务卡/"' in out
    assert "<mark>服务卡</mark> &amp; " in out and "会员<mark>服务卡</mark></a>" in out
    assert '<h2 class="block-heading"><mark>服务卡</mark></h2>' in out
    assert "<figcaption>服务卡</figcaption>" in out and '<blockquote class="block-quote">服务卡</blockquote>' in out
