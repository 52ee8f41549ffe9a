"""The jieba backends behind Wagtail search, on whichever database the suite runs (SQLite or PostgreSQL)."""

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test.utils import CaptureQueriesContext
from wagtail.search.backends import get_search_backend

from search.analysis import analyse_query
from speeches.models import SpeechPage
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db


def slugs(results):
    return [page.slug for page in results]


def test_backend_matches_database(settings):
    from django.db import connection

    backend = get_search_backend()
    assert backend.vendor == connection.vendor


HOSTILE = ['"', '"医疗', "(((", ")", "AND", "OR", "NEAR", "NEAR(工会 职工)", "*", "工会*", "😀", "！？", "\x00",
           "工\x00会", "   ", "\u3000", "{title}: 工会", "title:工会", "'; DROP TABLE x; --", "a" * 5000, "工" * 5000,
           "^v^", "-工会", "“职工", "「工会」", "工会 OR 1=1"]


def test_search_on_the_real_corpus(indexed_corpus, client):
    """One import of the corpus, many checks (importing is the slow part)."""
    live = SpeechPage.objects.live()
    # Words the default backend missed.
    for word in ["服务卡", "会员服务卡", "食堂", "师德", "工资集体协商"]:
        results = live.search(word)
        assert results.count() >= 1, word
        for page in results:
            assert word in page.title + page.plain_text() + page.summary + page.meeting
    assert slugs(live.search("服务卡"))[:1] == ["speech-10"]
    assert "speech-10" in slugs(live.search("会员服务卡"))

    # Synonyms.
    direct = set(slugs(live.search("职工代表大会")))
    assert direct and direct <= set(slugs(live.search("职代会")))

    # Queries are data, never syntax.
    for query in HOSTILE:
        results = live.search(query)
        assert isinstance(list(results[:10]), list)
        assert results.count() >= 0

    # Quoted text is an exact phrase.
    assert "speech-10" in slugs(live.search('"职工医疗互助"'))
    for page in live.search('"工会工作"'):
        assert "工会工作" in (page.title + page.plain_text()).replace(" ", "")
    assert live.search('"互助医疗职工"').count() == 0

    # Several words: all of them, falling back to any.
    for page in live.search("师德 工会"):
        text = page.title + page.plain_text()
        assert "师德" in text and "工会" in text
    either = slugs(live.search("服务卡 师德"))
    assert "speech-10" in either and len(either) > 1

    # The admin's page search (an editor, not a superuser).
    editor = User.objects.create_user("editor1", password="x" * 12)
    editor.groups.add(Group.objects.get(name="编辑"))
    client.force_login(editor)
    response = client.get("/admin/pages/search/", {"q": "服务卡"})
    assert response.status_code == 200
    assert SpeechPage.objects.get(slug="speech-10").title in response.content.decode()

    # Wagtail API v2 ?search=
    response = client.get("/api/v2/pages/", {"search": "服务卡", "type": "speeches.SpeechPage"})
    assert response.status_code == 200
    titles = [item["title"] for item in response.json()["items"]]
    assert SpeechPage.objects.get(slug="speech-10").title in titles


def test_index_follows_publish_unpublish_and_delete(speech_index):
    page = SpeechPageFactory(parent=speech_index, title="金秋助学动员讲话", slug="jinqiu",
                             body=[("paragraph", "<p>开展金秋助学活动，资助困难职工子女。</p>")])
    page.save_revision().publish()
    assert slugs(SpeechPage.objects.live().search("金秋助学")) == ["jinqiu"]
    page.body = [("paragraph", "<p>组织劳模疗休养。</p>")]
    page.save_revision().publish()
    assert slugs(SpeechPage.objects.live().search("疗休养")) == ["jinqiu"]
    assert slugs(SpeechPage.objects.live().search("资助")) == []
    page.unpublish()
    assert slugs(SpeechPage.objects.live().search("疗休养")) == []
    page.delete()
    assert slugs(SpeechPage.objects.search("疗休养")) == []


def test_rebuilt_index_gives_same_results_as_incremental(speech_index):
    for n, text in enumerate(["工资集体协商要点", "厂务公开和职代会", "农民工小额担保贷款", "工人先锋号创建"]):
        page = SpeechPageFactory(parent=speech_index, slug=f"s{n}", date_delivered=datetime.date(2024, 1, n + 1),
                                 body=[("paragraph", f"<p>{text}。</p>")])
        page.save_revision().publish()
    queries = ["集体协商", "职工代表大会", "担保贷款", "先锋号", "工会 农民工", '"厂务公开"']
    before = {q: slugs(SpeechPage.objects.live().search(q)) for q in queries}
    call_command("update_index", verbosity=0)
    after = {q: slugs(SpeechPage.objects.live().search(q)) for q in queries}
    assert before == after
    assert before["集体协商"] == ["s0"] and before["职工代表大会"] == ["s1"]


def test_title_ranks_above_body(speech_index):
    in_body = SpeechPageFactory(parent=speech_index, slug="body", title="年度讲话",
                                body=[("paragraph", "<p>做好疗休养工作，关心职工。</p>")])
    in_title = SpeechPageFactory(parent=speech_index, slug="title", title="关于疗休养的讲话",
                                 body=[("paragraph", "<p>关心职工。</p>")])
    for page in (in_body, in_title):
        page.save_revision().publish()
    assert slugs(SpeechPage.objects.live().search("疗休养")) == ["title", "body"]


def test_empty_query_matches_nothing(speech_index):
    SpeechPageFactory(parent=speech_index).save_revision().publish()
    assert analyse_query("\u3000").is_empty
    assert SpeechPage.objects.live().search("\u3000").count() == 0


def test_update_index_shares_analysis_between_processes_with_identical_entries(imported_corpus, monkeypatch):
    """update_index analyses large batches in forked processes too, pipelined with reading and writing the
    batches around them; the index must not change by a byte."""
    from search import analysis
    from search.backends.common import IndexEntry

    def entries():
        return {(e.content_type_id, e.object_id): (str(e.title), str(e.body), str(e.autocomplete))
                for e in IndexEntry.objects.all()}

    monkeypatch.setattr(analysis, "PARALLEL_MIN_CHARS", 10**12)
    call_command("update_index", verbosity=0)
    serial = entries()

    submitted = []

    class CountingPool(analysis.ProcessPoolExecutor):
        def submit(self, *args, **kwargs):
            future = super().submit(*args, **kwargs)
            submitted.append(future)
            return future

    monkeypatch.setattr(analysis, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(analysis, "PART_CHARS", 1)  # one text a part: both processes take parts
    monkeypatch.setattr(analysis, "ProcessPoolExecutor", CountingPool)
    IndexEntry.objects.all().delete()
    with analysis.parallel_analysis(workers=1):
        # Small chunks: each is read by pk after the last and analysed while the one before is written.
        call_command("update_index", verbosity=0, chunk_size=4)
    assert sum(len(future.result()) for future in submitted) > 0  # parts really were analysed in the other process
    assert entries() == serial and len(serial) > 17


def test_update_index_writes_what_indexing_each_page_writes(imported_corpus, speech_index, monkeypatch):
    """update_index reads only the columns the index needs and writes rows its own way (on SQLite, in few
    statements); every entry must be byte for byte what indexing each fully loaded object on its own gives."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from search import analysis
    from search.backends.common import IndexEntry, search_columns
    from speeches.models import Speaker
    from speeches.tests.factories import SpeakerFactory

    speaker = SpeakerFactory(name="王建國", post="市總工會主席")
    varied = [
        dict(summary="關於勞模精神的摘要", region="  ", meeting="全市職代會",
             body=[("heading", {"text": "一、工资集体协商", "level": "h2"}),
                   ("paragraph", "<p>职工&amp;会员 &lt;服务卡&gt; <b>疗休养</b></p>"),
                   ("quote", {"text": "劳动最光荣", "attribution": "毛泽东"})]),
        dict(summary="", region="浙江省", meeting="", speaker=None, body=[]),
        dict(summary="\u3000", region="", meeting="ＡＢＣ工会", body=[("paragraph", "<p>  </p>")]),
    ]
    for n, fields in enumerate(varied):
        page = SpeechPageFactory(parent=speech_index, slug=f"varied-{n}", **{"speaker": speaker, **fields})
        if n == 0:
            page.topics.add("劳模工匠", "职工之家", "工會")
            page.save()
    backend = get_search_backend()
    models = (SpeechPage, Speaker)
    content_types = [ContentType.objects.get_for_model(model).pk for model in models]

    def entries():
        return {(e.content_type_id, e.object_id): (str(e.title), str(e.body), str(e.autocomplete))
                for e in IndexEntry.objects.filter(content_type__in=content_types)}

    IndexEntry.objects.all().delete()
    for model in models:
        for pk in model.objects.values_list("pk", flat=True):
            backend.add(model.objects.get(pk=pk))  # as on publish: the whole object, nothing prefetched
    one_by_one = entries()
    if connection.vendor == "sqlite":  # the texts themselves, not written by the code under test
        index = backend.get_index_for_model(SpeechPage)
        for model, content_type in zip(models, content_types, strict=True):
            for obj in model.objects.all():
                indexer = index.indexer_class(obj, backend)
                assert one_by_one[content_type, str(obj.pk)] == (indexer.title, indexer.body, indexer.autocomplete)
    assert len(one_by_one) > 20 and any("王建国" in body for _title, body, _auto in one_by_one.values())

    # The speeches are read with the columns their search fields name only (topics are prefetched).
    assert search_columns(SpeechPage) == ["body", "meeting", "region", "speaker", "summary", "title"]
    IndexEntry.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        call_command("update_index", verbosity=0)
    assert entries() == one_by_one
    # One read of the batch and one finding no more: no speech loads a deferred field on its own.
    assert len([q for q in queries if 'FROM "speeches_speechpage"' in q["sql"]]) == 2
    assert any('"_search_json_body"' in q["sql"] for q in queries)  # the body read as JSON text

    monkeypatch.setattr(analysis, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(analysis, "PART_CHARS", 1)
    IndexEntry.objects.all().delete()
    with analysis.parallel_analysis(workers=1):
        call_command("update_index", verbosity=0, chunk_size=3)
    assert entries() == one_by_one
    call_command("update_index", verbosity=0)  # over the entries already there
    assert entries() == one_by_one


def test_stream_json_decoded_as_json_loads_would():
    """update_index decodes StreamField JSON with orjson, and with json where orjson refuses the text."""
    import json

    from search.backends.common import _json_loads

    for text in ['[{"type": "paragraph", "value": "<p>工会 &amp; 职工</p>", "id": "a"}]', "[]", "null",
                 '[{"value": NaN}]', '["\\ud800"]', "[123456789012345678901234567890, 1.5e300, -0.0]",
                 "[-9223372036854775809, 18446744073709551616]", "[1e400, -1e400]"]:
        assert repr(_json_loads(text)) == repr(json.loads(text))
