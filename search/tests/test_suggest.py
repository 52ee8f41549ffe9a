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


def test_a_small_change_patches_the_index_with_the_results_of_a_full_build(monkeypatch):
    monkeypatch.setattr(suggest, "BACKGROUND_REBUILD", False)
    texts = [f"职工服务卡{n}号" for n in range(200)] + ["樱桃服务站", "服务职工"]
    state = {"version": 1}
    suggest.register_source("test-changing", "title", "测试", lambda: list(texts), lambda: state["version"])
    try:
        prefixes = ["服务", "fuwu", "fw", "职工", "zg", "樱桃", "yt", "新"]
        assert "樱桃服务站" in [s["text"] for s in suggest.suggest("yingtao") if s["kind"] == "title"]
        texts.remove("樱桃服务站")
        texts.extend(["新建服务站", "服务卡办理"])
        state["version"] = 2
        patched = {p: suggest.suggest(p) for p in prefixes}
        index = suggest._indexes["test-changing"]
        assert index.version == 2 and None in index.texts  # patched, not rebuilt
        assert index.keys == sorted(index.keys)
        suggest._indexes.pop("test-changing")
        assert {p: suggest.suggest(p) for p in prefixes} == patched  # a full build answers the same
        titles = {p: [s["text"] for s in found if s["kind"] == "title"] for p, found in patched.items()}
        assert "樱桃服务站" not in titles["樱桃"] + titles["服务"] and "新建服务站" in titles["新"]
    finally:
        suggest._sources.pop("test-changing", None)
        suggest._indexes.pop("test-changing", None)
