import os
import re

from django.conf import settings

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


def jieba_keywords(text, topk):
    """The reference: jieba.analyse's TF-IDF with jieba's own tokenizer (the union dictionary loaded)."""
    import jieba.analyse

    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = analysis.tokenizer()
    extractor.stop_words = set(extractor.stop_words) | set(analysis.stop_words())
    words = extractor.extract_tags(analysis.fold(text), topK=topk * 3)
    return [w for w in words if len(w) >= 2 and w not in analysis.stop_words() and re.search(r"[\u4e00-\u9fff]", w)][
        :topk]


def test_keywords_agree_with_jieba_tfidf_on_the_corpus(corpus_file):
    text = corpus_file.read_text(encoding="utf-8")
    chunks = [text[i:i + 1500] for i in range(0, len(text), 1500)]
    assert len(chunks) > 40
    for chunk in chunks:
        for topk in (8, 40):
            assert analysis.extract_keywords(chunk, topk) == jieba_keywords(chunk, topk)


def test_idf_table_holds_jiebas_values():
    from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader

    reference, median = IDFLoader(DEFAULT_IDF).get_idf()
    table = analysis.idf_table()
    assert len(table) == len(reference) and table.median == median
    for word in ["工会", "职工", "服务卡", "的", "a", "zzz不存在的词", list(reference)[0], list(reference)[-1]]:
        assert table.get(word, -1.0) == reference.get(word, -1.0)


def test_keywords_without_parts_of_speech_leave_jieba_unloaded():
    """Related speeches extract keywords in web workers: rjieba and the IDF table only, not jieba's dictionary and
    POS tagger (some 200 MB)."""
    import subprocess
    import sys

    code = ("import django, sys; django.setup(); from search import analysis; "
            "words = analysis.extract_keywords('推进职工医疗互助，扩大会员服务卡覆盖面。', 5); "
            "print(words, analysis._tokenizer is None, 'jieba.posseg' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"},
                         cwd=settings.BASE_DIR).stdout
    assert "职工医疗互助" in out and out.strip().endswith("True False")


def test_place_names_still_work():
    assert analysis.place_names("我们在陕西省榆林市召开会议") == ["陕西省", "榆林市"]
