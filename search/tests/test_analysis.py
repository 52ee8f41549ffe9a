import re

from search import analysis


def test_search_mode_index_finds_parts_of_long_union_words():
    tokens = analysis.index_tokens("工会会员服务卡和职工医疗互助")
    for word in ["工会会员服务卡", "会员服务卡", "服务卡", "职工医疗互助", "医疗互助"]:
        assert word in tokens


def test_index_text_keeps_reading_order_for_phrases():
    text = "各级工会要做好金秋助学、送温暖工作。"
    assert analysis.phrase_key(text) in analysis.analyse_for_index(text).replace(" ", "")


def test_query_is_segmented_with_synonyms_and_stop_words():
    parsed = analysis.analyse_query("职代会的劳模")
    assert ("职代会", "职工代表大会") in parsed.groups
    assert ("劳动模范", "劳模") in parsed.groups
    assert all("的" not in group for group in parsed.groups)


def test_quoted_text_is_a_phrase_and_stray_quotes_are_data():
    parsed = analysis.analyse_query('"工会 工作" 食堂')
    assert [p.key for p in parsed.phrases] == ["工会工作"]
    assert parsed.groups == [("食堂",)]
    odd = analysis.analyse_query('服务卡"')
    assert not odd.phrases and odd.groups


def test_hostile_queries_become_plain_words():
    for text in ["", "   \u3000 ", "\x00", '"', "((((", "AND OR NEAR", "*", "😀", "！？。，", "服" * 5000]:
        parsed = analysis.analyse_query(text)
        for group in parsed.groups:
            for token in group:
                assert re.fullmatch(r"[^\W_]+", token)
    assert analysis.analyse_query("   \u3000 ").is_empty
    assert len(analysis.analyse_query("服务卡 " * 2000).groups) <= analysis.MAX_QUERY_TERMS


def test_full_width_text_is_folded():
    assert analysis.segment("ＡＢＣ１２３") == ["abc123"]


def test_rjieba_agrees_with_jieba_on_the_corpus(corpus_file):
    """Index and query segment with rjieba; it must agree with the jieba reference on the real corpus."""
    text = corpus_file.read_text(encoding="utf-8")
    reference = [w for w in analysis.tokenizer().cut_for_search(text) if re.search(r"[\u4e00-\u9fff]", w)]
    fast = [w for w in analysis._engine().cut_for_search(text) if re.search(r"[\u4e00-\u9fff]", w)]
    assert len(reference) > 30000
    assert fast == reference


def test_one_segmenter_per_process():
    assert analysis._engine() is analysis._engine()
    assert analysis.tokenizer() is analysis.tokenizer()


def test_extract_keywords_uses_union_dictionary():
    text = "工会会员服务卡是工会服务职工的重要载体。推广会员服务卡，让服务卡惠及更多职工。职工医疗互助也要做好。"
    keywords = analysis.extract_keywords(text, topk=5)
    assert 1 <= len(keywords) <= 5
    assert "服务卡" in keywords or "会员服务卡" in keywords or "工会会员服务卡" in keywords
    assert all(w not in analysis.stop_words() for w in keywords)
    assert analysis.extract_keywords("", topk=3) == []


def test_place_names_still_work():
    assert analysis.place_names("我们在陕西省榆林市召开会议") == ["陕西省", "榆林市"]
