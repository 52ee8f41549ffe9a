"""Traditional → simplified folding (OpenCC t2s) and the ranking rules shared by every engine."""

from search import analysis, folding, ranking


def test_character_list_is_the_installed_opencc_one():
    single, phrases = folding.read_characters_file()
    assert (single, phrases) == folding.changeable_characters()
    assert {"會", "員"} <= set(single) and not {"藉", "瞭", "覆", "么"} & set(single)
    assert {"藉口", "瞭解", "反覆"} <= set(phrases)  # 藉, 瞭, 覆 change only inside these


def test_folding_is_phrase_aware_and_keeps_positions():
    for traditional, simplified in (("會員服務卡", "会员服务卡"), ("藉口和瞭解", "借口和了解"), ("乾隆", "乾隆"),
                                    ("乾淨", "干净"), ("ＡＢＣ會員", "ABC会员")):
        folded = analysis.fold(traditional)
        assert folded == simplified and len(folded) == len(traditional)
    for text in ("简体文本不变，English too。", "什么都要覆盖，像这样。"):
        assert folding.to_simplified(text) is text
    assert analysis.segment("職工醫療互助") == analysis.segment("职工医疗互助")
    assert analysis.analyse_for_index("會員服務卡") == analysis.analyse_for_index("会员服务卡")


def test_tiers():
    assert [ranking.min_groups(n) for n in (1, 2, 3, 4, 5, 10)] == [1, 2, 2, 3, 3, 6]
    assert ranking.min_groups(5, "any") == 1
    assert ranking.tier(3, 3, 3) == ranking.EXACT and ranking.tier(3, 3, 2) == ranking.PARTS
    assert ranking.tier(3, 2, 2) == ranking.MOST and ranking.tier(3, 1, 1) == ranking.ANY
    scores = [ranking.score(t, r) for t, r in ((ranking.EXACT, 0.1), (ranking.PARTS, 5000), (ranking.MOST, 3),
                                                (ranking.ANY, 900))]
    assert scores == sorted(scores, reverse=True)
    assert [ranking.match_kind(s) for s in scores] == ["all", "partial", "partial", "partial"]
    assert ranking.field_repeat(None) == 1 and ranking.field_repeat(2) == 2 and ranking.field_repeat(50) == 5


def test_compound_parts():
    parsed = analysis.analyse_query("学校食堂")
    assert parsed.groups == [("学校食堂",)] and parsed.parts == [(("学校",), ("食堂",))]
    assert analysis.analyse_query("永修县").parts == [(("永修",),)]
    assert analysis.analyse_query("服务卡").parts == [()]  # union dictionary words stay whole
    assert analysis.analyse_query("劳模精神").groups == [("劳动模范", "劳模"), ("精神",)]
    assert analysis.analyse_query("怎么办理会员服务卡").words == ["办理", "会员服务卡"]
