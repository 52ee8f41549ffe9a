"""Metadata read from the text of a Word document, and only from it."""

import datetime

import pytest

from speeches.importers.text_rules import find_dates
from speeches.importers.word.parse import parse_docx
from speeches.tests.samples import build_docx

BODY = ["同志们：", "今年的工会工作要围绕服务职工展开，切实维护职工合法权益。", "谢谢大家。"]


def meta_of(items):
    parsed = parse_docx("讲话.docx", build_docx(items))
    return parsed.meta, parsed


def test_title_line_gives_title_meeting_and_level():
    meta, parsed = meta_of(["在全市工会工作会议上的讲话"] + BODY)
    assert meta.title == "在全市工会工作会议上的讲话"
    assert meta.meeting == "全市工会工作会议"
    assert meta.org_level == "city"
    assert "在全市工会工作会议上的讲话" not in [b["value"] for b in parsed.blocks if b["type"] == "paragraph"]


def test_speaker_post_line():
    meta, parsed = meta_of(["在全省工会为职工办实事工作座谈会上的讲话", "市总工会主席 张三"] + BODY)
    assert (meta.speaker_org, meta.speaker_post, meta.speaker_name) == ("市总工会", "主席", "张三")
    assert meta.org_level == "provincial"
    assert all("张三" not in b["value"] for b in parsed.blocks if b["type"] == "paragraph")


def test_speaker_and_date_in_brackets():
    meta, _ = meta_of(["在全县教育工会工作会议上的讲话", "（张三同志 2024年3月5日）"] + BODY)
    assert meta.speaker_name == "张三" and meta.speaker_post == ""
    assert meta.date == datetime.date(2024, 3, 5)
    assert meta.org_level == "county"


@pytest.mark.parametrize(
    "line, expected",
    [
        ("2024年3月5日", datetime.date(2024, 3, 5)),
        ("二〇二四年三月五日", datetime.date(2024, 3, 5)),
        ("二〇二三年十二月三十一日", datetime.date(2023, 12, 31)),
        ("2024.3.5", datetime.date(2024, 3, 5)),
        ("（2024年11月20日）", datetime.date(2024, 11, 20)),
    ],
)
def test_date_forms(line, expected):
    meta, parsed = meta_of(["在全市工会工作会议上的讲话", line] + BODY)
    assert meta.date == expected
    assert line not in parsed.text()


def test_date_at_the_end_of_the_speech():
    meta, _ = meta_of(BODY + ["市总工会主席 李四", "2023年1月18日"])
    assert meta.date == datetime.date(2023, 1, 18) and meta.speaker_name == "李四"


def test_impossible_date_is_not_filled_but_warned():
    meta, _ = meta_of(["在全市工会工作会议上的讲话", "2024年2月30日"] + BODY)
    assert meta.date is None
    assert any("不存在" in w for w in meta.warnings)


def test_subtitle_under_a_main_title():
    meta, _ = meta_of(["坚定信心 实干担当 奋力开创工会工作新局面", "——在全市工会工作会议上的讲话", "王五"] + BODY)
    assert meta.title == "坚定信心 实干担当 奋力开创工会工作新局面"
    assert meta.meeting == "全市工会工作会议"


def test_comrade_in_title_gives_speaker():
    meta, _ = meta_of(["赵六同志在全市职工代表大会上的讲话"] + BODY)
    assert meta.speaker_name == "赵六" and meta.meeting == "全市职工代表大会"


def test_meeting_from_the_opening_when_no_title():
    meta, _ = meta_of(["同志们：", "今天我们召开全省工会为职工办实事工作座谈会，主要任务是总结经验。", "谢谢。"])
    assert meta.meeting == "全省工会为职工办实事工作座谈会"
    assert meta.title == ""


def test_nothing_stated_nothing_filled():
    meta, _ = meta_of(BODY)
    assert (meta.title, meta.meeting, meta.org_level, meta.speaker_name, meta.date) == ("", "", "", "", None)
    assert meta.missing() == ["标题", "讲话人", "讲话日期", "会议/场合", "组织层级"]


def test_dates_in_numbers_are_not_dates():
    assert find_dates("增长了 2024.35 万元") == []
    assert find_dates("版本 1.2.3") == []


def body_texts(parsed):
    return [b["value"] for b in parsed.blocks if b["type"] in ("paragraph", "heading")]


def test_name_then_post_in_brackets_under_the_title():
    meta, parsed = meta_of(["在全市工会工作会议上的讲话", "张三（市总工会主席）"] + BODY)
    assert (meta.speaker_org, meta.speaker_post, meta.speaker_name) == ("市总工会", "主席", "张三")
    assert all("张三" not in text for text in body_texts(parsed))


@pytest.mark.parametrize("line, name, date", [
    ("（王秀兰  二〇二三年十二月二十八日）", "王秀兰", datetime.date(2023, 12, 28)),
    ("（欧阳明 2023.12.28）", "欧阳明", datetime.date(2023, 12, 28)),
    ("(李  华　2024-03-05)", "李华", datetime.date(2024, 3, 5)),
])
def test_bare_name_and_date_in_brackets(line, name, date):
    meta, parsed = meta_of(["在全市工会工作会议上的讲话", line] + BODY)
    assert meta.speaker_name == name and meta.date == date
    assert all(name[:1] + name[-1:] not in text.replace(" ", "").replace("\u3000", "") for text in body_texts(parsed))


def test_a_place_beside_a_date_is_not_a_speaker():
    meta, parsed = meta_of(["在全市工会工作会议上的讲话", "（武汉市 2023年12月28日）"] + BODY)
    assert meta.speaker_name == ""


def test_dash_subtitle_under_the_main_title():
    meta, parsed = meta_of(["凝心聚力 奋发有为", "——在市总工会十五届三次全委（扩大）会议上的讲话", "市总工会主席 张三"]
                           + BODY)
    assert meta.title == "凝心聚力 奋发有为" and meta.meeting.startswith("市总工会十五届三次全委")
    assert meta.speaker_name == "张三"
    assert all("全委（扩大）会议上的讲话" not in text for text in body_texts(parsed))
