"""The Word batch's duplicate check looks speeches up by stored keys: the same duplicates and containments as
comparing with every speech of the archive (drafts included), in a few queries however large the archive is."""

import random

import pytest
from django.core.management import call_command

from bench.corpus_file import write_corpus
from speeches.importers.duplicates import ArchiveIndex, compare, page_text
from speeches.importers.text_rules import normalise, shingles
from speeches.importers.word.importer import Upload, create_draft, preview_uploads
from speeches.importers.word.parse import parse_docx
from speeches.models import SpeechFingerprint, SpeechPage
from speeches.tests.samples import build_docx, corpus_documents


def every_speech(text, exclude_pk=None, archive=None):
    """The check as it was: the text against every speech's shingles."""
    sig = shingles(text)
    if not normalise(text):
        return []
    if archive is None:
        archive = {page.pk: shingles(page_text(page)) for page in SpeechPage.objects.all()}
    found = []
    for pk, other in sorted(archive.items()):
        result = compare(sig, other) if pk != exclude_pk else None
        if result:
            found.append((pk, result[0], round(result[1], 9)))
    return sorted(found, key=lambda m: (-m[2], m[0]))


def by_keys(text, exclude_pk=None):
    found = ArchiveIndex(exclude_pk).find(text)
    return sorted(((m.page_id, m.kind, round(m.similarity, 9)) for m in found), key=lambda m: (-m[2], m[0]))


@pytest.fixture(scope="module")
def corpus_docs():
    from conftest import CORPUS_FILE

    return dict(corpus_documents(CORPUS_FILE))


def probes(texts, rng):
    """Each text, its halves, a paragraph run cut out of it, it with another text appended, and a reworded copy."""
    out = []
    for text in texts:
        lines = [line for line in text.split("\n") if line]
        half = len(lines) // 2
        out += [text, "\n".join(lines[:half]), "\n".join(lines[half:])]
        start = rng.randrange(len(lines))
        out.append("\n".join(lines[start:start + 3]))
        out.append(text + "\n" + rng.choice(texts))
        out.append("\n".join(line.replace("工会", "工 会").replace("职工", "员工", 1) for line in lines))
    return out


@pytest.mark.django_db
def test_the_same_matches_as_comparing_with_every_speech(imported_corpus, corpus_docs, tmp_path):
    from speeches.importers.writer import import_corpus

    parent = SpeechPage.objects.first().get_parent()
    # generated speeches made of the corpus's paragraphs: many overlaps, containments and near copies
    generated = write_corpus(tmp_path / "generated.txt", 150, plant=6)
    import_corpus(generated.path, parent=parent)
    # drafts, as the Word import leaves them (never published)
    for label in ("篇十一", "篇三"):
        preview = preview_uploads([Upload(f"{label}.docx", corpus_docs[label])])[0]
        create_draft(preview, parent)
    assert SpeechPage.objects.filter(live=False).count() == 2

    rng = random.Random(20)
    texts = [parse_docx(f"{label}.docx", data).text() for label, data in corpus_docs.items()]
    texts += rng.sample([page_text(page) for page in SpeechPage.objects.all()], 20)
    checked = matched = 0
    kinds = set()
    archive = {page.pk: shingles(page_text(page)) for page in SpeechPage.objects.all()}
    for text in probes(texts, rng):
        expected = every_speech(text, archive=archive)
        assert by_keys(text) == expected, text[:60]
        checked += 1
        matched += bool(expected)
        kinds |= {kind for _, kind, _ in expected}
    assert checked > 200 and matched > 150
    assert kinds == {"duplicate", "contains", "contained"}

    # the speech check of a page leaves the page itself out, drafts included
    draft = SpeechPage.objects.filter(live=False).first()
    text = page_text(draft)
    assert by_keys(text, exclude_pk=draft.pk) == every_speech(text, exclude_pk=draft.pk)
    assert draft.pk in [m[0] for m in by_keys(text)]


@pytest.mark.django_db
def test_only_candidates_are_read(imported_corpus, corpus_docs):
    archive = ArchiveIndex()
    unrelated = parse_docx("x.docx", build_docx([
        "同志们：", "今天召开全市职工运动会筹备会，主要安排比赛项目、场地和后勤保障。",
        "运动会设置拔河、跳绳、篮球三个项目，每个单位限报两支队伍，报名截止到下月十日。"])).text()
    assert archive.find(unrelated) == [] and archive.compared <= 1
    archive.find(parse_docx("篇十五.docx", corpus_docs["篇十五"]).text())
    assert 1 <= archive.compared <= 3 < SpeechPage.objects.count()


def batch(docs):
    return [Upload(f"{label}.docx", data) for label, data in docs]


@pytest.mark.django_db
def test_a_batch_check_costs_the_same_queries_for_any_archive_size(speech_index, corpus_docs, tmp_path,
                                                                   django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from speeches.importers.writer import import_corpus

    uploads = batch(list(corpus_docs.items())[:6])
    counts = []
    for size in (20, 400):
        import_corpus(write_corpus(tmp_path / f"archive-{size}.txt", size).path, parent=speech_index)
        with CaptureQueriesContext(connection) as queries:
            archive = ArchiveIndex()
            for upload in uploads:
                archive.find(parse_docx(upload.name, upload.data).text())
        counts.append(len(queries))
    assert SpeechPage.objects.count() == 420
    assert max(counts) <= 2 * len(uploads)  # the key lookup and (if any) the candidates, per document
    with django_assert_max_num_queries(2 * len(uploads) + 2):  # + the archive's topics
        previews = preview_uploads(uploads)
    assert all(p.ok for p in previews)


@pytest.mark.django_db
def test_keys_follow_saves_and_deletions(imported_corpus, corpus_docs):
    ten = SpeechPage.objects.get(source_note__contains=" 篇十（")
    fifteen = parse_docx("篇十五.docx", corpus_docs["篇十五"]).text()
    assert ten.pk in [m.page_id for m in ArchiveIndex().find(fifteen)]

    # a new version published with other content: found by its new text only
    other = SpeechPage.objects.get(source_note__contains=" 篇二（")
    ten.body = other.body
    ten.save_revision().publish()
    assert ten.pk not in [m.page_id for m in ArchiveIndex().find(fifteen)]
    assert ten.pk in [m.page_id for m in ArchiveIndex().find(page_text(other))]

    ten.delete()
    assert not SpeechFingerprint.objects.filter(page_id=ten.pk).exists()

    # the command rebuilds the keys of every speech (as the migration fills them for an existing archive)
    SpeechFingerprint.objects.all().delete()
    assert ArchiveIndex().find(page_text(other)) == []
    call_command("update_duplicate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert SpeechFingerprint.objects.count() == SpeechPage.objects.count()
    assert other.pk in [m.page_id for m in ArchiveIndex().find(page_text(other))]
