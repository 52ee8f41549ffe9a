"""The stored prefix index: ranking among many matches, whole matches first, one entry per text, and builds that
run in the task worker (a request never builds it)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.tests.worker import database_tasks, run_worker
from search import suggest
from search.models import SuggestionKey, SuggestionSource, SuggestionText

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    texts = ([f"服务卡发放通知{n}" for n in range(300)] + [f"关于服务卡{n}" for n in range(300)]
             + ["服务卡", "会员服务卡", "服务", "服务卡服务卡"])
    suggest.register_source("test-texts", "title", "测试", lambda: texts, lambda: 1, priority=10)
    yield texts
    suggest._sources.pop("test-texts", None)


def titles(found):
    return [s["text"] for s in found if s["kind"] == "title"]


def test_whole_match_then_texts_starting_with_it_then_shorter(source):
    found = titles(suggest.suggest("服务卡"))
    assert found[0] == "服务卡"  # the whole text
    assert found[1] == "服务卡服务卡"  # starts with it, shortest of the rest
    assert found[2:] == sorted(found[2:], key=lambda t: (len(t), t)) and all(t.startswith("服务卡") for t in found)
    assert len(found) == len(set(found)) == suggest.MAX_SUGGESTIONS


def test_pinyin_and_initials_rank_the_same_way(source):
    by_chars = titles(suggest.suggest("服务卡"))
    assert titles(suggest.suggest("fuwuka")) == by_chars
    assert titles(suggest.suggest("fwk")) == by_chars


def test_a_request_reads_stored_keys_and_builds_nothing_once_built(source):
    suggest.suggest("服务")  # the first suggestion stores the keys (the test task backend runs tasks at once)
    stored = SuggestionSource.objects.get(name="test-texts")
    assert stored.version == "1" and SuggestionText.objects.filter(source=stored).count() == len(source)
    with CaptureQueriesContext(connection) as queries:
        assert "服务卡" in titles(suggest.suggest("fuwuka"))
    assert not any(q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in queries)


def test_a_change_adds_and_removes_only_the_changed_texts_and_answers_as_a_full_build(monkeypatch):
    monkeypatch.setattr(suggest, "BACKGROUND_REBUILD", False)
    texts = [f"职工服务卡{n}号" for n in range(200)] + ["樱桃服务站", "服务职工"]
    state = {"version": 1}
    suggest.register_source("test-changing", "title", "测试", lambda: list(texts), lambda: state["version"])
    try:
        prefixes = ["服务", "fuwu", "fw", "职工", "zg", "樱桃", "yt", "新"]
        assert "樱桃服务站" in titles(suggest.suggest("yingtao"))
        row = SuggestionSource.objects.get(name="test-changing")
        kept = SuggestionText.objects.get(source=row, text="服务职工").pk
        texts.remove("樱桃服务站")
        texts.extend(["新建服务站", "服务卡办理"])
        state["version"] = 2
        patched = {p: suggest.suggest(p) for p in prefixes}
        assert SuggestionText.objects.get(source=row, text="服务职工").pk == kept  # kept, not rebuilt
        assert not SuggestionText.objects.filter(source=row, text="樱桃服务站").exists()
        assert SuggestionKey.objects.filter(source=row, key="yingtaofuwuzhan").count() == 0
        row.delete()  # a full build from nothing answers the same
        assert {p: suggest.suggest(p) for p in prefixes} == patched
        found = {p: titles(f) for p, f in patched.items()}
        assert "樱桃服务站" not in found["樱桃"] + found["服务"] and "新建服务站" in found["新"]
    finally:
        suggest._sources.pop("test-changing", None)


def test_changed_source_is_built_by_the_worker_while_the_stored_keys_answer(transactional_db):
    texts = ["樱桃服务站"]
    state = {"version": 1}
    suggest.register_source("test-worker", "title", "测试", lambda: list(texts), lambda: state["version"])
    try:
        with database_tasks():
            assert titles(suggest.suggest("yingtao")) == []  # nothing stored yet: one build enqueued
            suggest.suggest("yingtao")  # enqueued once per version
            assert run_worker() >= 1
            assert titles(suggest.suggest("yingtao")) == ["樱桃服务站"]
            texts.append("樱花大道")
            state["version"] = 2
            assert titles(suggest.suggest("ying")) == ["樱桃服务站"]  # the stored keys answer meanwhile
            assert SuggestionSource.objects.get(name="test-worker").pending == "2"
            assert run_worker() >= 1
            assert titles(suggest.suggest("ying")) == ["樱花大道", "樱桃服务站"]
            assert SuggestionSource.objects.get(name="test-worker").version == "2"
    finally:
        suggest._sources.pop("test-worker", None)
