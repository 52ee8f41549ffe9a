"""SQLite: a broad query's first page ranked from its terms' stored best entries (search.backends.sqlite_tops) is the
page that ranking every match gives, and the lists are never used once the index has changed."""

import pytest
from django.db import connection
from django.http import QueryDict
from wagtail.search.backends import get_search_backend

from search.analysis import analyse_query
from search.backends import sqlite_tops
from search.backends.common import IndexEntry
from search.models import TermTop
from search.ranking import TITLE_WEIGHT
from speeches.search.service import parse_params, search_speeches
from speeches.tests.factories import SpeechPageFactory
from speeches.tests.search.test_ranking_paths import QUERIES, every_match_ranked, service_pages

pytestmark = pytest.mark.django_db

BROAD = ["工会", "职工", "工会 职工", "职工 权益 维护", "工作 发展", '"工会工作"', "会员 服务卡", "会员 二维码"]


@pytest.fixture
def sqlite_backend():
    backend = get_search_backend()
    if backend.vendor != "sqlite":
        pytest.skip("常用词最佳条目只用于 SQLite FTS5 后端（PostgreSQL 与 Elasticsearch 有各自的排序）")
    return backend


def full_match(q, limit):
    """The best `limit` rows of an AND of the query's words with bm25 computed for every match."""
    parsed = analyse_query(q)
    expression = " AND ".join([f'"{t}"' for p in parsed.phrases for t in p.tokens]
                              + ["(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in parsed.groups])
    fts = f"{IndexEntry._meta.db_table}_fts"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid, -bm25({fts}, 0.0, 1.0, {TITLE_WEIGHT}) AS r FROM {fts} WHERE {fts} MATCH %s "
                       "ORDER BY r DESC LIMIT %s", ["{title body} : (" + expression + ")", limit])
        return cursor.fetchall()


def from_lists(q, limit):
    parsed = analyse_query(q)
    required = [(t,) for p in parsed.phrases for t in p.tokens] + [tuple(g) for g in parsed.groups]
    return sqlite_tops.best_entries(sqlite_tops.expression_terms(parsed), required, limit)


def entries(term):
    return len(TermTop.objects.get(term=term).entries) // 8


def test_deeper_lists_prove_what_the_first_depth_cannot(indexed_corpus, sqlite_backend, monkeypatch):
    monkeypatch.setattr(sqlite_tops, "TOP_K", 1)
    build("工会 职工")
    monkeypatch.setattr(sqlite_tops, "MAX_DEPTH", 1)
    assert from_lists("工会 职工", 5) is None
    monkeypatch.setattr(sqlite_tops, "MAX_DEPTH", 64)
    assert from_lists("工会 职工", 5) == full_match("工会 职工", 5)


def test_many_words_or_too_many_candidates_are_left_to_the_full_match(indexed_corpus, sqlite_backend,
                                                                     monkeypatch):
    monkeypatch.setattr(sqlite_tops, "TOP_K", 2)
    build("工会 职工")
    assert from_lists("工会 职工", 3) == full_match("工会 职工", 3)
    monkeypatch.setattr(sqlite_tops, "MAX_CANDIDATES", 2)  # more entries than that to score before a proof
    assert from_lists("工会 职工", 3) is None
    sqlite_tops._enqueued.clear()
    many = "工会 职工 工作 发展 会员 服务 权益 维护 建设"  # nine words: more than MAX_TERMS
    assert from_lists(many, 3) is None
    assert not sqlite_tops._enqueued  # nothing asked of the worker either


def build(q):
    return sqlite_tops.build(sqlite_tops.expression_terms(analyse_query(q)))


@pytest.mark.parametrize("depths", [(3, 3), (2, 64), (12, 12)])
def test_pages_from_stored_lists_equal_ranking_every_match(indexed_corpus, sqlite_backend, monkeypatch, depths):
    # Every query takes the stored-list path, with depths small enough that proofs also fail and fall back. With
    # the immediate task backend the first search of a term builds its list; the pages must not change.
    monkeypatch.setattr(sqlite_tops, "MIN_MATCHES", 0)
    monkeypatch.setattr(sqlite_tops, "TOP_K", depths[0])
    monkeypatch.setattr(sqlite_tops, "MAX_DEPTH", depths[1])
    sqlite_tops._enqueued.clear()
    for q in QUERIES + BROAD:
        for match in ("", "all"):
            expected = every_match_ranked(q, match)
            for page_size in (2, 7):
                assert service_pages(q, match, page_size) == expected, (q, match, page_size)
    assert TermTop.objects.count() > 20


def test_lists_prove_the_best_with_the_scores_bm25_gives(indexed_corpus, sqlite_backend, monkeypatch):
    monkeypatch.setattr(sqlite_tops, "TOP_K", 8)
    monkeypatch.setattr(sqlite_tops, "MAX_DEPTH", 8)
    proven = 0
    for q in ["工会", "职工", "工会 职工", "工作 发展", '"工会工作"', "会员 二维码"]:
        TermTop.objects.all().delete()
        assert from_lists(q, 3) is None  # no list yet
        build(q)
        rows = from_lists(q, 3)
        if rows is not None:
            proven += 1
            assert rows == full_match(q, 3), q  # the same rows and bit-identical scores
    assert proven >= 4


def test_a_required_rare_word_scored_to_its_end_makes_the_candidates_every_match(indexed_corpus, sqlite_backend,
                                                                                 monkeypatch):
    monkeypatch.setattr(sqlite_tops, "TOP_K", 5)
    monkeypatch.setattr(sqlite_tops, "MAX_DEPTH", 5)
    build("职工 十堰")
    assert entries("十堰") <= 5 < entries("职工")
    # Every match of 十堰 is listed: known scores for all of them, fewer than the limit.
    assert from_lists("十堰", 10) == full_match("十堰", 10) != []
    # With 职工 (five best listed): every match holds 十堰, so the candidates are every match, scored exactly.
    assert from_lists("职工 十堰", 10) == full_match("职工 十堰", 10) != []


def test_a_list_that_cannot_prove_the_page_gives_way(indexed_corpus, sqlite_backend, monkeypatch):
    monkeypatch.setattr(sqlite_tops, "TOP_K", 1)
    monkeypatch.setattr(sqlite_tops, "MAX_DEPTH", 1)
    build("工会 职工")
    assert from_lists("工会 职工", 5) is None
    parsed = analyse_query("工会 职工")
    assert sqlite_backend.entry_relevance(parsed, limit=5, matches=10**9) == full_match("工会 职工", 5)


def test_any_write_to_the_index_retires_every_list(indexed_corpus, sqlite_backend, speech_index, monkeypatch):
    monkeypatch.setattr(sqlite_tops, "MIN_MATCHES", 0)
    sqlite_tops._enqueued.clear()
    build("工会")
    assert from_lists("工会", 3) is not None
    # A new speech that outranks every other on 工会: the old list cannot know it.
    page = SpeechPageFactory(parent=speech_index, slug="gonghui", title="工会工会工会", meeting="工会大会",
                             body=[("paragraph", "<p>工会工会工会工会。</p>")])
    page.save_revision().publish()
    stale = TermTop.objects.get(term="工会").signature
    with connection.cursor() as cursor:
        assert sqlite_tops.signature(cursor) != stale
    # Immediate task backend: the search that finds the list stale rebuilds it and itself uses the full MATCH; the
    # next one reads the new list. Both put the new speech first.
    for _ in range(2):
        data = search_speeches(parse_params(QueryDict(mutable=True) | {"q": "工会"}), with_pages=True)
        assert data["pages"][0].pk == page.pk
    assert TermTop.objects.get(term="工会").signature != stale
    assert from_lists("工会", 3) == full_match("工会", 3)


def test_the_worker_builds_the_lists_a_search_asked_for(transactional_db, indexed_corpus, sqlite_backend,
                                                        monkeypatch):
    from core.tests.worker import database_tasks, run_worker

    monkeypatch.setattr(sqlite_tops, "MIN_MATCHES", 0)
    sqlite_tops._enqueued.clear()
    with database_tasks():
        search_speeches(parse_params(QueryDict(mutable=True) | {"q": "工会 职工"}), with_pages=False)
        assert not TermTop.objects.exists()  # nothing is built in the request
        search_speeches(parse_params(QueryDict(mutable=True) | {"q": "工会 职工"}), with_pages=False)
        assert run_worker() == 1  # asked for once
    assert set(TermTop.objects.values_list("term", flat=True)) == {"工会", "职工"}
    assert from_lists("工会 职工", 10) == full_match("工会 职工", 10)
