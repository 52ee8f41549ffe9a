"""The fast page of results (the engine's top-N of the tiers the page reaches) is the page that ranking every match
would give: the same speeches, scores, order, counts, on every page, for every kind of query."""

import pytest
from django.http import QueryDict
from wagtail.search.backends import get_search_backend

from search import ranking
from search.analysis import analyse_query
from speeches.models import SpeechPage
from speeches.search.catalog import speech_catalog
from speeches.search.service import parse_params, search_speeches
from speeches.tests.factories import SpeechPageFactory

pytestmark = pytest.mark.django_db

QUERIES = ["服务卡", "职代会", "学校食堂", "教师心理健康", "村党员会议", "职工 权益 维护", "学校安全 体罚", "劳模精神",
           '"工会工作"', '"职工代表" 大会', "服务卡 医疗互助 小额贷款", "厂务公开 职代会 集体合同", "奥运 抗震救灾",
           "怎么办理会员服务卡", "十堰 二维码 特教学校 永修县"]


def every_match_ranked(q, match=""):
    """(count, count of full matches, [(page id, score)] in display order) from every match's full score."""
    parsed = analyse_query(q)
    backend = get_search_backend()
    by_entry = hasattr(backend, "entry_scores")
    catalog = speech_catalog(by_entry=by_entry)
    for mode in ["all"] + (["any"] if len(parsed.groups) > 1 else []):
        if by_entry:
            scores = dict(backend.entry_scores(parsed, mode))
        else:
            scores = {int(k): v for k, v in backend.match_scores(SpeechPage, parsed, mode=mode).items()}
        public = [e for e in scores if e in catalog.page]
        if public:
            break
    if match == "all":
        public = [e for e in public if ranking.tier_of(scores[e]) == ranking.EXACT]
    public.sort(key=lambda e: (-scores[e], catalog.date_key[e], -catalog.page[e]))
    full = sum(1 for e in public if ranking.tier_of(scores[e]) == ranking.EXACT)
    return len(public), full, [(catalog.page[e], round(scores[e], 4)) for e in public]


def service_pages(q, match="", page_size=2):
    """The same from the search service, page after page."""
    found, page, count, count_all = [], 1, None, None
    while True:
        data = search_speeches(parse_params(QueryDict(mutable=True) | {"q": q, "match": match, "page": str(page),
                                                                        "page_size": str(page_size)}))
        count, count_all = data["count"], data["count_all"]
        found += [(p.pk, p.search_score) for p in data["pages"]]
        if page >= data["num_pages"]:
            return count, count_all, found
        page += 1


@pytest.mark.parametrize("page_size", [2, 7])
def test_fast_pages_equal_ranking_every_match_on_the_real_corpus(indexed_corpus, page_size):
    for q in QUERIES:
        for match in ("", "all"):
            expected = every_match_ranked(q, match)
            assert service_pages(q, match, page_size) == expected, (q, match)


def test_phrase_misses_at_the_top_of_the_ranking_fall_back_to_every_match(speech_index):
    # Title matches on 工会 and 工作 outrank the body matches, but only the body holds the phrase 工会工作.
    apart = [("paragraph", "<p>工会组织职工开展活动，做好各项工作。</p>")]
    for n in range(30):
        page = SpeechPageFactory(parent=speech_index, slug=f"apart-{n}", title=f"工会开展工作{n}",
                                 meeting="职工大会", body=apart)
        page.save_revision().publish()
    for n in range(3):
        page = SpeechPageFactory(parent=speech_index, slug=f"phrase-{n}", title=f"讲话{n}",
                                 meeting="职工大会", body=[("paragraph", "<p>加强工会工作，服务职工群众。</p>")])
        page.save_revision().publish()
    count, count_all, found = service_pages('"工会工作"', page_size=2)
    assert count == count_all == 3
    assert (count, count_all, found) == every_match_ranked('"工会工作"')


def test_a_page_spanning_tiers_ranks_each_tier_in_order(speech_index):
    texts = ["食堂 体罚 二维码 都要管好。"] + ["食堂 体罚 要管好。"] * 3 + ["食堂要干净。"] * 3
    for n, text in enumerate(texts):
        page = SpeechPageFactory(parent=speech_index, slug=f"tier-{n}", title=f"讲话{n}", meeting="职工大会",
                                 body=[("paragraph", f"<p>{text}</p>")])
        page.save_revision().publish()
    count, count_all, found = service_pages("食堂 体罚 二维码", page_size=3)
    assert (count, count_all) == (4, 1)  # every word, then most words (2 of 3); one word alone is not enough
    assert [ranking.tier_of(score) for _pk, score in found] == [ranking.EXACT] + [ranking.MOST] * 3
    assert (count, count_all, found) == every_match_ranked("食堂 体罚 二维码")
