"""Search snippets: which passage is shown, how it is trimmed and highlighted."""

from speeches.search.service import best_snippet


def test_passage_with_most_distinct_terms_wins_over_the_first_match():
    text = "会议强调服务卡。今年扩大服务卡覆盖面，特惠商户提供优惠！其他内容；最后一句"
    assert best_snippet(text, ["服务卡", "特惠商户"]) == (
        "今年扩大<mark>服务卡</mark>覆盖面，<mark>特惠商户</mark>提供优惠！"
    )


def test_equally_good_passages_show_the_first_and_a_trailing_passage_counts():
    assert best_snippet("开头。职工书屋建成；职工书屋开放。", ["职工书屋"]) == "<mark>职工书屋</mark>建成；"
    assert best_snippet("开头一句。结尾没有句号的职工书屋", ["职工书屋"]) == "结尾没有句号的<mark>职工书屋</mark>"


def test_long_passage_is_cut_around_the_first_match_with_ellipses():
    text = "甲" * 200 + "服务卡" + "乙" * 200 + "。"
    snippet = best_snippet(text, ["服务卡"], width=30)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>服务卡</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 32


def test_no_match_gives_the_lead_and_control_characters_never_reach_the_page():
    assert best_snippet("第一句\x0b话。" + "第二句。" * 60, ["不存在"], width=12) == "第一句 话。第二句。第二…"
    assert best_snippet("工会\x00职工；另一句。", ["职工"]) == "工会 <mark>职工</mark>；"
    assert best_snippet("", ["职工"]) == "" and best_snippet(" \x00 ", ["职工"]) == ""
    assert best_snippet("第一句。第二句。", []) == "第一句。"


def test_full_width_forms_match_and_markup_is_escaped():
    snippet = best_snippet("２０２４年<b>职工</b>运动会。", ["2024"])
    assert snippet == "<mark>２０２４</mark>年&lt;b&gt;职工&lt;/b&gt;运动会。"
