"""The prefix index: ranking among many matches, whole matches first, one entry per text."""

import pytest

from search import suggest


@pytest.fixture
def source():
    texts = ([f"服务卡发放通知{n}" for n in range(300)] + [f"关于服务卡{n}" for n in range(300)]
             + ["服务卡", "会员服务卡", "服务", "服务卡服务卡"])
    suggest.register_source("test-texts", "title", "测试", lambda: texts, lambda: 1, priority=10)
    yield texts
    suggest._sources.pop("test-texts", None)
    suggest._indexes.pop("test-texts", None)


def test_whole_match_then_texts_starting_with_it_then_shorter(source):
    found = [s["text"] for s in suggest.suggest("服务卡") if s["kind"] == "title"]
    assert found[0] == "服务卡"  # the whole text
    assert found[1] == "服务卡服务卡"  # starts with it, shortest of the rest
    assert found[2:] == sorted(found[2:], key=lambda t: (len(t), t)) and all(t.startswith("服务卡") for t in found)
    assert len(found) == len(set(found)) == suggest.MAX_SUGGESTIONS


def test_pinyin_and_initials_rank_the_same_way(source):
    by_chars = [s["text"] for s in suggest.suggest("服务卡") if s["kind"] == "title"]
    assert [s["text"] for s in suggest.suggest("fuwuka") if s["kind"] == "title"] == by_chars
    assert [s["text"] for s in suggest.suggest("fwk") if s["kind"] == "title"] == by_chars
