"""Suggested topics and the duplicate warning, on one document per real corpus entry."""

import pytest

from speeches.importers.duplicates import ArchiveIndex
from speeches.importers.text_rules import TOPIC_VOCABULARY, suggest_topics
from speeches.importers.word.importer import Upload, preview_uploads
from speeches.importers.word.parse import parse_docx
from speeches.tests.samples import build_docx, corpus_documents


@pytest.fixture(scope="module")
def corpus_docs():
    from conftest import CORPUS_FILE

    return dict(corpus_documents(CORPUS_FILE))


def test_one_document_per_corpus_entry_parses(corpus_docs):
    assert len(corpus_docs) == 17
    for label, data in corpus_docs.items():
        parsed = parse_docx(f"{label}.docx", data)
        assert len(parsed.blocks) >= 3, label
        assert "本站小编" not in parsed.text()
    ten = parse_docx("篇十.docx", corpus_docs["篇十"])
    heading_texts = [b["value"]["text"] for b in ten.blocks if b["type"] == "heading"]
    assert "一、关于工会会员服务卡发送工作" in heading_texts
    assert ten.meta.meeting == "全省工会为职工办实事工作座谈会" and ten.meta.org_level == "provincial"


def test_extract_keywords_uses_the_single_shared_segmenter():
    import jieba

    from search import analysis

    words = analysis.extract_keywords("工会会员服务卡发送工作要抓紧，会员服务卡要让职工得实惠。", topk=5)
    assert "会员服务卡" in words  # a union-dictionary word, kept whole
    assert not jieba.dt.initialized  # jieba's default segmenter (a second dictionary) is never loaded


@pytest.mark.django_db
def test_topics_on_the_real_corpus(corpus_docs):
    for label, data in corpus_docs.items():
        parsed = parse_docx(f"{label}.docx", data)
        topics = suggest_topics(parsed.text(), known=set())
        assert 5 <= len(topics) <= 8, (label, topics)
        assert len(set(topics)) == len(topics)
        assert not {"工会", "工作", "同志们", "我们"} & set(topics)
    ten = suggest_topics(parse_docx("篇十.docx", corpus_docs["篇十"]).text(), known=set())
    # the union vocabulary comes first
    assert ten[:3] == ["会员服务卡", "职工医疗互助", "小额担保贷款"]
    assert all(topic in TOPIC_VOCABULARY for topic in ten[:5])


@pytest.mark.django_db
def test_duplicate_warning_on_the_real_corpus_pairs(imported_corpus, corpus_docs):
    from speeches.models import SpeechPage

    archive = ArchiveIndex()
    # 篇十五 republishes 篇十 (a few commas differ)
    ten = SpeechPage.objects.get(source_note__contains=" 篇十（")
    matches = archive.find(parse_docx("篇十五.docx", corpus_docs["篇十五"]).text())
    assert matches[0].page_id == ten.pk
    assert matches[0].kind == "duplicate" and matches[0].similarity >= 0.9
    assert matches[0].url == f"/admin/pages/{ten.pk}/edit/"
    assert "高度相似" in matches[0].message()

    # 篇十一 as received holds all of 篇十七
    seventeen = SpeechPage.objects.get(source_note__contains=" 篇十七（")
    matches = archive.find(parse_docx("篇十一.docx", corpus_docs["篇十一"]).text())
    contained = [m for m in matches if m.page_id == seventeen.pk]
    assert contained and contained[0].kind == "contains" and contained[0].similarity >= 0.95
    assert "包含已有讲话" in contained[0].message()

    # an unrelated speech is not flagged
    other = build_docx(["同志们：", "今天召开全市职工运动会筹备会，主要安排比赛项目、场地和后勤保障。",
                        "运动会设置拔河、跳绳、篮球三个项目，每个单位限报两支队伍，报名截止到下月十日。"])
    assert archive.find(parse_docx("x.docx", other).text()) == []


@pytest.mark.django_db
def test_duplicates_within_one_upload_batch(speech_index, corpus_docs):
    previews = preview_uploads([Upload("篇十.docx", corpus_docs["篇十"]), Upload("篇十五.docx", corpus_docs["篇十五"])])
    assert previews[0].duplicates == []
    assert previews[1].duplicates[0].label == "篇十.docx" and previews[1].duplicates[0].kind == "duplicate"


def test_topics_are_nouns_not_courtesies_numbers_or_verbs(corpus_docs):
    text = ("值此新春佳节之际，向全市广大职工致以崇高的敬意和节日的问候！今年全市工会共开展送温暖活动，"
            "惠及困难职工3.5万人次，发放慰问金1200万元。职工医疗互助参保人数持续增长，职工书屋覆盖所有园区。"
            "我们要深入推进产业工人队伍建设改革，切实维护职工合法权益，努力把职工书屋办好。")
    topics = suggest_topics(text, known=set())
    assert {"致以", "崇高", "敬意", "万人次", "问候", "新春", "佳节"}.isdisjoint(topics)
    assert "职工书屋" in topics
    for label, data in corpus_docs.items():
        suggested = suggest_topics(parse_docx(f"{label}.docx", data).text(), known=set())
        assert {"致以", "崇高", "敬意", "万人次"}.isdisjoint(suggested), label
