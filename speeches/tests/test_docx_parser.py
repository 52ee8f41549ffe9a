"""Structure rules of the Word parser, on documents built with python-docx."""

import pytest

from speeches.importers.word.errors import DocxImportError
from speeches.importers.word.parse import parse_docx
from speeches.tests.samples import build_docx

OPENING = "同志们：今天我们召开会议，总结工作，部署任务。"


def parse(items, **kwargs):
    return parse_docx("test.docx", build_docx(items, **kwargs))


def kinds(parsed):
    return [block["type"] for block in parsed.blocks]


def headings(parsed):
    return [(b["value"]["text"], b["value"]["level"]) for b in parsed.blocks if b["type"] == "heading"]


def texts(parsed):
    return [b["value"] for b in parsed.blocks if b["type"] in ("paragraph", "quote")]


def test_word_heading_styles_become_heading_levels():
    parsed = parse([OPENING, ("heading", "总体要求", 1), "正文一。", ("heading", "具体任务", 2), "正文二。",
                    ("heading", "细则", 3), "正文三。"])
    assert headings(parsed) == [("总体要求", "h2"), ("具体任务", "h3"), ("细则", "h4")]
    assert kinds(parsed) == ["paragraph", "heading", "paragraph", "heading", "paragraph", "heading", "paragraph"]


def test_typed_numbering_becomes_headings_in_order_of_appearance():
    parsed = parse([OPENING, "一、过去一年的工作", "（一）职工维权扎实推进", "第一，要解决好服务卡的吸引力问题",
                    "1. 抓好送温暖", "正文段落，说明情况。", "二、今年的主要任务"])
    assert headings(parsed) == [
        ("一、过去一年的工作", "h2"),
        ("（一）职工维权扎实推进", "h3"),
        ("第一，要解决好服务卡的吸引力问题", "h4"),
        ("1. 抓好送温暖", "h4"),
        ("二、今年的主要任务", "h2"),
    ]


def test_long_numbered_paragraph_splits_into_heading_and_text():
    long = "（二）加强职工医疗互助。" + "今年要把医疗互助覆盖到全市所有基层工会，让每一位职工都能得到保障。" * 2
    parsed = parse([OPENING, long])
    assert headings(parsed) == [("（二）加强职工医疗互助", "h2")]
    assert texts(parsed)[-1].startswith("今年要把医疗互助覆盖到全市所有基层工会")


def test_bold_one_line_paragraph_is_a_heading_but_bold_sentence_is_not():
    parsed = parse([OPENING, ("bold", "切实加强工会自身建设"), ("bold", "这是一句加粗强调的完整句子。"), "正文。"])
    assert headings(parsed) == [("切实加强工会自身建设", "h2")]
    assert "这是一句加粗强调的完整句子。" in texts(parsed)


def test_quote_table_and_image_kept_in_order():
    parsed = parse([OPENING, ("style", "工会是职工之家。", "Quote"), "表格之前。",
                    ("table", [["项目", "数量"], ["慰问困难职工", "1200"]]), "图片之前。", ("image",), "结尾。"])
    assert kinds(parsed) == ["paragraph", "quote", "paragraph", "table", "paragraph", "image", "paragraph"]
    table = next(b for b in parsed.blocks if b["type"] == "table")
    assert table["value"] == [["项目", "数量"], ["慰问困难职工", "1200"]]
    image = next(b for b in parsed.blocks if b["type"] == "image")["value"]
    assert image.ext == "png" and image.data.startswith(b"\x89PNG")


def test_empty_paragraphs_and_empty_tables_dropped():
    parsed = parse([OPENING, ("empty",), "", "   ", "\u3000\u3000", ("table", [["", ""], ["", ""]]), "正文。"])
    assert texts(parsed) == [OPENING, "正文。"]


def test_manual_line_breaks_inside_a_sentence_are_joined():
    lines = ["我们要进一步加强", "基层工会建设，", "切实维护职工权益。", "第二句另起一段。"]
    parsed = parse([OPENING, ("lines", lines)])
    assert texts(parsed)[1:] == ["我们要进一步加强基层工会建设，切实维护职工权益。", "第二句另起一段。"]


def test_page_numbers_headers_and_footers_dropped():
    parsed = parse([OPENING, "3", "— 4 —", "- 5 -", "第 6 页", "第7页 共9页", "8/9", ("page_field", "正文内容。", "12"),
                    "共有 1200 名职工参加。"], header="XX市总工会文件", footer="第 1 页")
    assert texts(parsed) == [OPENING, "正文内容。", "共有 1200 名职工参加。"]
    full = parsed.text()
    assert "XX市总工会文件" not in full and "12" not in full.replace("1200", "")


def test_tracked_change_debris_dropped():
    parsed = parse([OPENING, ("tracked", "我们要", "坚决反对", "大力推进", "工会改革。")])
    assert texts(parsed)[1] == "我们要大力推进工会改革。"
    assert "坚决反对" not in parsed.text()


def test_messy_document_with_indents_and_nbsp():
    parsed = parse(["\u3000\u3000同志们：", "\u3000\u3000今天\u00a0召开会议。\u3000", ("empty",), ("empty",), "1",
                    "\u3000\u3000谢谢大家！"])
    assert texts(parsed) == ["同志们：", "今天 召开会议。", "谢谢大家！"]


def test_document_with_only_a_title_has_no_body():
    with pytest.raises(DocxImportError, match="没有正文"):
        parse(["在全市工会工作会议上的讲话"])


def test_empty_document_rejected():
    with pytest.raises(DocxImportError, match="空文档"):
        parse([("empty",), ("empty",)])
