import pytest
from django.core.management import CommandError, call_command

from speeches.importers.corpus import CorpusFormatError, decode, parse_corpus
from speeches.models import SpeechPage


@pytest.fixture(scope="module")
def parsed():
    from conftest import CORPUS_FILE

    return parse_corpus(decode(CORPUS_FILE.read_bytes()))


def all_text(speech):
    return "\n".join(p.text for p in speech.paragraphs)


def test_entries_split_and_duplicates_found(parsed):
    labels = [s.label for s in parsed.speeches]
    # 17 entries, 篇九 holds three speeches and 篇十一 two; 篇十五 repeats 篇十.
    assert len(labels) == 19
    assert "篇十五" not in labels
    assert {"篇九（1）", "篇九（2）", "篇九（3）", "篇十一（1）", "篇十一（2）"} <= set(labels)
    dups = {(d.label, d.of_label, d.kind) for d in parsed.duplicates}
    assert ("篇十五", "篇十", "duplicate") in dups
    assert ("篇十一（2）", "篇十七", "contained") in dups


def test_contained_speech_kept_once(parsed):
    by_label = {s.label: s for s in parsed.speeches}
    tail = "景东县地处普洱市北大门"
    assert tail in all_text(by_label["篇十七"])
    assert all(tail not in all_text(s) for label, s in by_label.items() if label != "篇十七")
    # the closing greeting before the appended text stays with its speech
    assert "给大家拜个晚年" in all_text(by_label["篇十一（2）"])


def test_boilerplate_and_debris_removed(parsed):
    text = "\n".join(all_text(s) for s in parsed.speeches)
    for junk in ["本站小编", "仅供参考", "本文地址", "^v^", "页,当前第", "通过总结,我们可以更好地总结经验"]:
        assert junk not in text
    for speech in parsed.speeches:
        for para in speech.paragraphs:
            assert para.text not in {"共", "页", "1", "2", "3", "讲话稿。"}


def test_broken_lines_and_hyphens_repaired(parsed):
    text = "\n".join(all_text(s) for s in parsed.speeches)
    assert "要推动《劳动合同法》的贯彻实施" in text
    assert "工资集体协商、集体合同" in text
    assert "一定要签订合同" in text
    for broken in ["和-谐", "反腐-败", "舆-论", "管-理-员", "民-主"]:
        assert broken not in text
    assert "和谐" in text and "管理员" in text and "舆论" in text
    assert "崇德向善——忠诚跟党走" in text
    # redacted placeholders are the source's, kept as they are
    assert "20xx" in text


def test_headings_become_blocks(parsed):
    by_label = {s.label: s for s in parsed.speeches}
    headings = [b["value"]["text"] for b in by_label["篇十"].blocks if b["type"] == "heading"]
    assert "一、关于工会会员服务卡发送工作" in headings
    assert "第一,要解决好服务卡的吸引力问题" in headings
    levels = {b["value"]["text"]: b["value"]["level"] for b in by_label["篇十"].blocks if b["type"] == "heading"}
    assert levels["一、关于工会会员服务卡发送工作"] == "h2"
    assert levels["第一,要解决好服务卡的吸引力问题"] == "h3"
    h_arabic = [b for b in by_label["篇三"].blocks if b["type"] == "heading"]
    assert h_arabic[0]["value"]["text"].startswith("1、以师德建设为根本")


def test_metadata_read_from_text_never_invented(parsed):
    by_label = {s.label: s for s in parsed.speeches}
    assert by_label["篇十"].meeting == "全省工会为职工办实事工作座谈会"
    assert by_label["篇十"].org_level == "provincial"
    assert by_label["篇十"].title == "在全省工会为职工办实事工作座谈会上的讲话"
    assert by_label["篇十一（1）"].org_level == "county"
    assert by_label["篇九（1）"].region == "十堰市"
    assert by_label["篇十七"].region == "景东县"
    # 篇一 names no meeting, level, date or speaker
    first = by_label["篇一"]
    assert (first.meeting, first.org_level, first.region, first.date) == ("", "", "", None)
    assert all(s.date is None for s in parsed.speeches)  # the corpus states no delivery dates
    assert "会员服务卡" in by_label["篇十"].topics and "职工医疗互助" in by_label["篇十"].topics


def test_import_creates_pages_and_reports(imported_corpus, speech_index):
    assert imported_corpus.imported == 19
    assert len(imported_corpus.duplicates) == 2
    pages = SpeechPage.objects.child_of(speech_index)
    assert pages.count() == 19
    assert all(p.live for p in pages)
    page = pages.get(slug="speech-10")
    assert page.meeting == "全省工会为职工办实事工作座谈会"
    assert [b.block_type for b in page.body][:2] == ["paragraph", "paragraph"]
    assert any(b.block_type == "heading" for b in page.body)
    assert set(page.topics.names()) >= {"会员服务卡", "职工医疗互助"}
    assert any("^v^" in str(w) for w in imported_corpus.warnings)


def test_reimport_is_idempotent(imported_corpus, speech_index, corpus_file):
    from speeches.importers.writer import import_corpus

    again = import_corpus(corpus_file, parent=speech_index)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 19)
    assert SpeechPage.objects.count() == 19


def test_reimport_updates_changed_page(imported_corpus, speech_index, corpus_file):
    from speeches.importers.writer import import_corpus

    page = SpeechPage.objects.get(slug="speech-10")
    page.meeting = "被改动的会议"
    page.save_revision().publish()
    again = import_corpus(corpus_file, parent=speech_index)
    assert (again.imported, again.updated) == (0, 1)
    assert SpeechPage.objects.get(slug="speech-10").meeting == "全省工会为职工办实事工作座谈会"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff\xfe\x00garbage", "空字节"),
        ("没有分篇标题的文本\n第二行".encode(), "未找到讲话分篇标题"),
        ("工会工作会议讲话内容篇一\n同志们:\n正文。\n工会工作会议讲话内容篇一\n正文。".encode(), "重复"),
        ("工会工作会议讲话内容篇一\n同志们:\n工会工作会议讲话内容篇二\n正文。".encode(), "没有正文"),
        ("工会工作会议讲话内容篇一\n同志们:\n正文。\n".encode("gbk"), "UTF-8"),
    ],
)
def test_malformed_file_changes_nothing(tmp_path, speech_index, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    before = SpeechPage.objects.count()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_speeches", str(bad))
    assert message in str(excinfo.value)
    assert "数据库未作任何修改" in str(excinfo.value)
    assert SpeechPage.objects.count() == before


def test_failure_midway_rolls_back(tmp_path, speech_index, corpus_file, monkeypatch):
    """An error while writing the 5th speech leaves no page from the file behind."""
    from speeches.importers import writer

    calls = {"n": 0}

    def failing_progress(index, total, message):
        calls["n"] += 1
        if index == 5:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        writer.import_corpus(corpus_file, parent=speech_index, progress=failing_progress)
    assert SpeechPage.objects.count() == 0


def test_command_prints_progress_and_summary(speech_index, corpus_file, capsys):
    call_command("import_speeches", str(corpus_file))
    out = capsys.readouterr().out
    assert "[  1/19]" in out and "[ 19/19]" in out
    assert "新建 19 篇" in out and "重复跳过 2 处" in out
    assert "第254行" in out  # warnings carry line numbers


def test_malformed_entry_error_has_line_number():
    with pytest.raises(CorpusFormatError) as excinfo:
        parse_corpus("前言\n工会工作会议讲话内容篇一\n同志们:\n")
    assert excinfo.value.line == 2
