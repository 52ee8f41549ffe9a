"""The corpus importer on generated files: duplicates found from indexes (the same as comparing every pair),
normalisation once per paragraph, batched bulk writes that leave a valid Wagtail page tree."""

import random

import pytest
from django.core.management import CommandError, call_command

from bench.corpus_file import chinese_numeral, pool, write_corpus
from speeches.importers import corpus
from speeches.importers.corpus import Duplicate, Notice, TextLines, entry_speeches, read_entries, scan_corpus
from speeches.importers.text_rules import chinese_number, jaccard, normalise, shingles


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "planted.txt", 2000, plant=20)


def found(scan):
    return {(d.label, d.of_label, d.kind) for d in scan.duplicates}


def test_chinese_numbers_of_large_entries():
    for n in [*range(1, 300), 1000, 1010, 10001, 10010, 99999, 100000, 123456]:
        assert chinese_number(chinese_numeral(n)) == n
    assert chinese_number("十五") == 15 and chinese_number("一百零五") == 105


def test_exact_near_and_contained_duplicates_found_among_2000(planted):
    scan = scan_corpus(planted.path)
    assert len(planted.expected) == 60
    assert found(scan) == planted.expected  # every planted one, nothing else
    assert scan.total == 2000 - 40  # exact and near copies skipped; hosts of contained speeches kept, cut
    assert sum(d.kind == "contained" for d in scan.duplicates) == 20
    # Candidates come from the indexes: a few hundred exact comparisons, not the 2 million pairs.
    assert scan.verified < 1000 and scan.rereads < 1000


def test_contained_speech_cut_out_of_its_host(planted):
    scan = scan_corpus(planted.path)
    speeches = {s.label: s for s in scan.speeches()}
    for label, of, kind in planted.expected:
        if kind == "contained":
            small = [normalise(p.text) for p in speeches[of].paragraphs]
            host = [normalise(p.text) for p in speeches[label].paragraphs]
            assert 5 <= len(host) <= 9  # its salutation and own 4–8 paragraphs
            assert all(host[i:i + len(small)] != small for i in range(len(host)))
        else:
            assert label not in speeches and of in speeches


def reference(text, threshold=0.85):
    """The importer's detection as it was: every speech against every other, re-normalising inside the loop."""
    warnings, speeches = [], []
    for entry in read_entries(TextLines(text), []):
        speeches += entry_speeches(entry, warnings)[0]
    duplicates, notes = [], []
    for small in speeches:
        small_norm = [normalise(p.text) for p in small.paragraphs]
        if len(small_norm) < 2:
            continue
        for big in speeches:
            if big is small or len(big.paragraphs) <= len(small.paragraphs):
                continue
            big_norm = [normalise(p.text) for p in big.paragraphs]
            n = len(small_norm)
            for start in range(len(big_norm) - n + 1):
                if big_norm[start:start + n] == small_norm:
                    run = big.paragraphs[start:start + n]
                    chars = sum(len(p.text) for p in run)
                    del big.paragraphs[start:start + n]
                    notes.append(str(Notice(run[0].line, f"{big.label} 第{run[0].line}–{run[-1].line}行（{chars}字）与 "
                                 f"{small.label} 全文相同，已从{big.label}中移除，只作为{small.label}导入一次")))
                    duplicates.append(Duplicate(big.label, small.label, 1.0, run[0].line, "contained"))
                    break
    kept, signatures = [], []
    for speech in speeches:
        if not speech.paragraphs:
            continue
        sig = shingles(speech.text)
        match = next(((other, s) for other, other_sig in zip(kept, signatures, strict=True)
                      if (s := jaccard(sig, other_sig)) >= threshold), None)
        if match:
            duplicates.append(Duplicate(speech.label, match[0].label, match[1], speech.start_line))
            continue
        kept.append(speech)
        signatures.append(sig)
    return duplicates, notes, [(s.label, [p.text for p in s.paragraphs]) for s in kept]


def tricky_entries(start):
    """Containment chains and overlaps: X inside Y inside Z, X inside two hosts, a copy of a host, a near copy
    of a short speech, a speech that is only a salutation and X."""
    rng = random.Random(7)
    paragraphs = pool()
    x = rng.sample(paragraphs, 3)
    y = rng.sample(paragraphs, 2) + x
    z = rng.sample(paragraphs, 2) + y + rng.sample(paragraphs, 1)
    other_host = rng.sample(paragraphs, 4) + x
    short = rng.sample(paragraphs, 2)
    near_short = [short[0], short[1][:-3] + "某" + short[1][-2:]]
    entries = [z, y, ["同志们:", *x], x, other_host, list(other_host), short, near_short, ["各位代表:", *x]]
    return "".join(f"工会工作会议讲话内容篇{chinese_numeral(start + i)}\n" + "\n".join(lines) + "\n"
                   for i, lines in enumerate(entries))


def test_same_results_as_comparing_every_pair(tmp_path):
    made = write_corpus(tmp_path / "small.txt", 300, plant=6)
    text = made.path.read_text(encoding="utf-8") + tricky_entries(301)
    duplicates, notes, kept = reference(text)
    scan = scan_corpus(text)
    ours = [(d.label, d.of_label, d.kind, round(d.similarity, 9), d.line) for d in scan.duplicates]
    assert ours == [(d.label, d.of_label, d.kind, round(d.similarity, 9), d.line) for d in duplicates]
    assert len(ours) > 18 + 3  # the planted ones and the tricky ones
    assert [str(w) for w in scan.warnings if "已从" in str(w)] == notes
    assert [(s.label, [p.text for p in s.paragraphs]) for s in scan.speeches()] == kept


def test_each_paragraph_normalised_once(tmp_path, monkeypatch):
    calls = {"n": 0}
    original = corpus.normalise

    def counting(text):
        calls["n"] += 1
        return original(text)

    clean = write_corpus(tmp_path / "clean.txt", 500)
    planted = write_corpus(tmp_path / "planted.txt", 500, plant=5)
    monkeypatch.setattr(corpus, "normalise", counting)
    scan = scan_corpus(clean.path)
    assert not scan.duplicates and scan.paragraphs == clean.paragraphs
    # Once each in the first pass; again only for the few candidates compared shingle by shingle.
    assert calls["n"] == clean.paragraphs + scan.renormalised
    assert scan.renormalised < clean.paragraphs / 20
    list(scan.speeches())
    assert calls["n"] == clean.paragraphs + scan.renormalised  # the second pass needs none

    calls["n"] = 0
    scan = scan_corpus(planted.path)
    assert found(scan) == planted.expected
    # Only cut speeches and duplicate candidates are read (and normalised) a second time.
    assert calls["n"] == planted.paragraphs + scan.renormalised
    assert scan.renormalised < planted.paragraphs / 5


@pytest.fixture
def generated(tmp_path):
    return write_corpus(tmp_path / "archive.txt", 450, plant=5)


def test_import_in_batches_makes_valid_searchable_pages(speech_index, generated, monkeypatch, capsys):
    from wagtail.models import Page, PageLogEntry

    from speeches.importers import writer
    from speeches.models import SpeechPage

    monkeypatch.setattr(writer, "STATUS_EVERY", 200)
    call_command("import_speeches", str(generated.path), "--batch-size", "200")
    out = capsys.readouterr().out
    total = 450 - 10
    assert "检查完成：440 篇待写入，重复 15 处" in out
    for done in (200, 400, total):
        assert f"已处理 {done}/{total} 篇…" in out
    assert f"新建 {total} 篇，更新 0 篇，未变 0 篇，重复跳过 15 处" in out
    assert "[  1/" not in out  # not a line per speech for a large file

    assert Page.find_problems() == ([], [], [], [], [])
    speech_index.refresh_from_db()
    pages = SpeechPage.objects.child_of(speech_index)
    assert pages.count() == speech_index.numchild == total
    for page in pages.select_related("latest_revision"):
        assert page.live and not page.has_unpublished_changes and page.first_published_at
        assert page.latest_revision_id == page.live_revision_id
        assert page.url_path == f"{speech_index.url_path}{page.slug}/"
        assert list(page.latest_revision.as_object().body.raw_data) == list(page.body.raw_data)
    assert PageLogEntry.objects.filter(action="wagtail.publish", page__in=pages).count() == total

    # Searchable at once (the importer indexes each batch), and editable as any page.
    containing = {p.pk for p in pages if "服务卡" in p.plain_text()}
    assert containing and containing <= {p.pk for p in SpeechPage.objects.live().search("服务卡")}
    page = pages.first()
    page.title = "编辑改过的标题"
    page.save_revision().publish()
    assert Page.find_problems() == ([], [], [], [], [])
    assert page.url == f"/speeches/{page.slug}/"

    # Running again updates that page only.
    call_command("import_speeches", str(generated.path))
    out = capsys.readouterr().out
    assert f"新建 0 篇，更新 1 篇，未变 {total - 1} 篇" in out
    assert SpeechPage.objects.count() == total


def test_no_index_then_update_index(speech_index, generated, capsys):
    from speeches.models import SpeechPage

    call_command("import_speeches", str(generated.path), "--no-index")
    assert "请运行 manage.py update_index" in capsys.readouterr().out
    assert SpeechPage.objects.live().search("服务卡").count() == 0
    call_command("update_index", verbosity=0)
    assert SpeechPage.objects.live().search("服务卡").count() > 0


def test_malformed_entry_at_the_end_writes_nothing(tmp_path, speech_index, generated):
    from speeches.models import SpeechPage

    text = generated.path.read_text(encoding="utf-8")
    lines = text.count("\n")
    bad = tmp_path / "bad.txt"
    bad.write_text(text + "工会工作会议讲话内容篇一\n同志们:\n正文。\n", encoding="utf-8")
    with pytest.raises(CommandError) as excinfo:
        call_command("import_speeches", str(bad), "--batch-size", "50")
    assert f"第{lines + 1}行" in str(excinfo.value) and "重复" in str(excinfo.value)
    assert "数据库未作任何修改" in str(excinfo.value)
    assert SpeechPage.objects.count() == 0


def test_invalid_utf8_far_into_the_file_has_its_line(tmp_path, speech_index, generated):
    raw = generated.path.read_bytes()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(raw + "工会工作会议讲话内容篇一万\n同志们:\n".encode() + "正文。\n".encode("gbk"))
    line = raw.count(b"\n") + 3
    with pytest.raises(CommandError) as excinfo:
        call_command("import_speeches", str(bad))
    assert f"第{line}行" in str(excinfo.value) and "UTF-8" in str(excinfo.value)


def test_file_changed_while_importing_keeps_written_batches(tmp_path, speech_index, generated):
    from speeches.importers.writer import ImportInterrupted, import_corpus
    from speeches.models import SpeechPage

    path = tmp_path / "changing.txt"
    original = generated.path.read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")

    def progress(index, total, message):
        if index == 50:  # the first batch is written: the file changes under the import
            path.write_text("前言\n" + original, encoding="utf-8")

    with pytest.raises(ImportInterrupted) as excinfo:
        import_corpus(path, parent=speech_index, progress=progress, batch_size=50)
    assert excinfo.value.written == 50 and "被改动" in str(excinfo.value)
    assert SpeechPage.objects.count() == 50
    # Running again completes it: the 50 are updated (their line numbers moved), nothing is duplicated.
    summary = import_corpus(path, parent=speech_index)
    assert (summary.imported, summary.updated) == (390, 50)
    assert SpeechPage.objects.count() == 440


def test_plain_paragraphs_skip_the_whitelister_only_when_it_changes_nothing():
    from django.utils.html import escape

    from speeches.blocks import _PLAIN_PARAGRAPH, ParagraphBlock, _whitelister

    clean = _whitelister(tuple(ParagraphBlock().features)).clean
    rng = random.Random(3)
    alphabet = [chr(c) for c in range(0x250)] + list("工会“”，。、\u00a0\u2028\u3000😀") + [" "] * 20
    texts = pool() + ["", " ", "   ", "a  b", "<b>x</b>", "'\"&"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    fast = 0
    for text in texts:
        source = f"<p>{escape(text)}</p>"
        if _PLAIN_PARAGRAPH.match(source):
            fast += 1
            assert clean(source) == source, source
        assert ParagraphBlock().get_prep_value(ParagraphBlock().to_python(source)) == clean(source)
    assert fast > len(texts) / 2
