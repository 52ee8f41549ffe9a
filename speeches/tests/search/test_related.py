"""“相关讲话” through the real search index: keywords and topics, only live public speeches, bounded candidates."""

import re
from collections import Counter

import pytest
from django.core.cache import cache
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction
from wagtail.search.backends import get_search_backend

from speeches.models import SpeechPage
from speeches.search import related
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db

# The eight keywords jieba's TF-IDF picks from TEXT (see test_keywords_of_the_test_speech).
PHRASES = ["职工医疗互助", "会员服务卡", "金秋助学", "厂务公开", "职工书屋", "疗休养", "困难职工"]
TEXT = ("推进职工医疗互助，扩大会员服务卡覆盖面，开展金秋助学，落实困难职工帮扶，推进厂务公开，建设职工书屋，"
        "开展劳模疗休养，组织技能竞赛。")
FILLER = "会议强调要认真落实各项部署。"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def speech(parent, slug, text, topics=(), publish=True, title=None):
    page = SpeechPageFactory(parent=parent, slug=slug, title=title or f"讲话{slug}", meeting="", summary="",
                             body=[("paragraph", f"<p>{text}</p>")], live=publish)
    for topic in topics:
        page.topics.add(topic)
    revision = page.save_revision()
    if publish:
        revision.publish()
    return SpeechPage.objects.get(pk=page.pk)


def slugs(pages):
    return [p.slug for p in pages]


def keyword_scores(page, limit=None):
    parsed = related.keyword_query(page)
    return {int(k): v for k, v in get_search_backend().match_scores(SpeechPage, parsed, mode="any",
                                                                    limit=limit).items()}


def every_match_related(page, limit=5):
    """The related speeches from every keyword match and every speech sharing a topic (no bound)."""
    scores = Counter()
    matches = keyword_scores(page)
    top = max(matches.values(), default=0) or 1.0
    for pk, score in matches.items():
        scores[pk] += score / top
    tag_ids = list(page.topics.values_list("pk", flat=True))
    shared = (SpeechPage.objects.filter(tagged_items__tag_id__in=tag_ids).values("pk")
              .annotate(n=models.Count("tagged_items")))
    for row in shared:
        scores[row["pk"]] += row["n"]
    scores.pop(page.pk, None)
    live = set(SpeechPage.objects.live().public().values_list("pk", flat=True))
    return [pk for pk, _ in sorted(scores.items(), key=lambda i: (-i[1], -i[0])) if pk in live][:limit]


def test_keywords_of_the_test_speech(speech_index):
    page = speech(speech_index, "a", TEXT)
    assert set(related.keyword_query(page).words) == {*PHRASES, "开展"}


def test_related_by_shared_keywords_and_topics_without_the_page_itself(speech_index):
    a = speech(speech_index, "a", TEXT, topics=["服务", "帮扶"])
    speech(speech_index, "both", f"{PHRASES[0]}，{PHRASES[1]}。{FILLER}", topics=["服务"])
    speech(speech_index, "topic", "学校要抓好师德师风建设。", topics=["帮扶"])
    speech(speech_index, "words", f"{PHRASES[2]}，{PHRASES[3]}。{FILLER}")
    speech(speech_index, "none", "学校要抓好教学质量。")
    assert max(keyword_scores(a), key=keyword_scores(a).get) == a.pk  # the page matches itself best
    found = a.related_speeches()
    assert slugs(found) == ["both", "topic", "words"]
    assert a.pk not in [p.pk for p in found]


def test_unpublished_and_private_speeches_are_left_out_even_when_they_score_best(speech_index):
    a = speech(speech_index, "a", TEXT)
    draft = speech(speech_index, "draft", TEXT, publish=False)
    private = speech(speech_index, "private", TEXT)
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.PASSWORD, password="x")
    speech(speech_index, "public", f"{PHRASES[0]}。{FILLER}")
    scores = keyword_scores(a)
    assert set(sorted(scores, key=scores.get, reverse=True)[:3]) == {a.pk, draft.pk, private.pk}  # above "public"
    assert slugs(a.related_speeches()) == ["public"]


def graded_archive(parent):
    """Speech `a`; s1 … s7 holding the first i keywords (more keywords, more related); s8 … s20 with none. All share
    the topic 服务 with `a`."""
    a = speech(parent, "a", TEXT, topics=["服务"])
    for i in range(1, 21):
        words = "，".join(PHRASES[:i]) if i <= len(PHRASES) else "学校"
        speech(parent, f"s{i}", f"{words}。{FILLER}", topics=["服务"])
    return a


def in_lists(queries):
    """Lengths of the literal IN (…) lists of the executed SQL."""
    return [len(values.split(",")) for q in queries for values in re.findall(r"\bIN \(([^()]*)\)", q["sql"])
            if not values.lstrip().upper().startswith("SELECT")]


def test_candidates_are_bounded_when_many_speeches_match(speech_index, monkeypatch):
    a = graded_archive(speech_index)
    assert len(keyword_scores(a)) == 8 and len(keyword_scores(a, limit=6)) == 6
    expected = every_match_related(a)
    assert expected == [SpeechPage.objects.get(slug=f"s{i}").pk for i in (7, 6, 5, 4, 3)]
    monkeypatch.setattr(related, "CANDIDATES", 6)  # fewer than the 8 keyword matches and the 21 sharing the topic
    with CaptureQueriesContext(connection) as captured:
        found = a.related_speeches()
    assert [p.pk for p in found] == expected
    assert max(in_lists(captured.captured_queries)) <= 2 * 6
    if get_search_backend().vendor != "elasticsearch":  # there the keyword search is no SQL (size=6 in the request)
        assert any("LIMIT 6" in q["sql"] for q in captured.captured_queries)


def test_result_is_cached(speech_index, django_assert_max_num_queries):
    a = speech(speech_index, "a", TEXT)
    speech(speech_index, "b", f"{PHRASES[0]}。{FILLER}")
    first = a.related_speeches()
    with django_assert_max_num_queries(1):
        assert a.related_speeches() == first


def test_words_most_of_the_archive_holds_do_not_make_speeches_related(speech_index):
    backend = get_search_backend()
    if not hasattr(backend, "common_terms"):
        pytest.skip("只有 SQLite 后端能直接读出词的文档数（PostgreSQL 与 Elasticsearch 用全部关键词）")
    a = speech(speech_index, "a", TEXT)
    for n in range(10):
        speech(speech_index, f"common{n}", f"开展活动。{FILLER}")
    speech(speech_index, "rare", f"{PHRASES[2]}。{FILLER}")
    assert backend.common_terms(["开展", PHRASES[2], PHRASES[0]]) == {"开展"}
    # 开展 is in 11 of the index's entries, more than half: it adds ~1e-6 to a score, so it relates nothing.
    assert slugs(a.related_speeches()) == ["rare"]
    every = every_match_related(a)
    assert every[0] == SpeechPage.objects.get(slug="rare").pk and len(every) == 5  # all words: 开展 fills the list
    only_common = related.keyword_query(speech(speech_index, "b", "开展活动。"))
    assert related.without_common_words(backend, only_common) == only_common  # nothing else left: kept
