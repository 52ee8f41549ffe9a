"""Chinese typography clean-up rules, and what they must leave alone."""

import pytest

from speeches.importers.typography import changes, clean, clean_html


@pytest.mark.parametrize(
    "before, after",
    [
        ("工会,职工.", "工会，职工。"),
        ("同志们:今天召开会议!", "同志们：今天召开会议！"),
        ("是否落实?要检查;", "是否落实？要检查；"),
        ("见(附件一)说明", "见（附件一）说明"),
        ("要 加 强 基层\u3000工会", "要加强基层工会"),
        ("构建和-谐劳动关系,反腐-败", "构建和谐劳动关系，反腐败"),
        ("他说\"工会是职工之家\"。", "他说“工会是职工之家”。"),
        ("「三个代表」重要思想", "“三个代表”重要思想"),
        ("等等...", "等等……"),
        ("共服务126个 ,为职工办实事", "共服务126个，为职工办实事"),
        ("会员\u3000;职工 ?", "会员；职工？"),
    ],
)
def test_clean_rules(before, after):
    assert clean(before) == after


@pytest.mark.parametrize(
    "text",
    [
        "增长 3.5%，达到 1,200 人，10:30 开会",
        "Hello, World. It works!",
        "COVID-19 疫情",
        "python (Latin text) 和 \"quoted words\"",
    ],
)
def test_numbers_latin_words_untouched(text):
    assert clean(text) == text


def test_urls_and_emails_untouched():
    text = "详见 https://example.org/a,b.html?x=1 或写信到 union.office@example.org 咨询"
    assert clean(text) == text
    assert clean("详见https://example.org/a,b.html,谢谢") == "详见https://example.org/a,b.html,谢谢"


def test_clean_html_only_changes_text():
    html = '<p>工会,职工<a href="https://x.org/a,b">链接,文字</a></p>'
    assert clean_html(html) == '<p>工会，职工<a href="https://x.org/a,b">链接，文字</a></p>'


def test_changes_report_before_and_after():
    report = changes("工会,职工", "工会，职工")
    assert report == [{"before": "工会", "removed": ",", "added": "，", "after": "职工"}]
    assert changes("一样", "一样") == []
