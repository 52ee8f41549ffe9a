"""Chinese search over merchants through the project's Wagtail search backend (jieba segmentation)."""

import re

from merchants.importing import plan_import

from .helpers import GOOD_ROWS, csv_bytes


def found(client, directory, **params):
    html = client.get(directory.url, params).content.decode()
    return set(re.findall(r'<h2 class="merchant-name"><a href="[^"]+">([^<]+)</a></h2>', html))


def test_word_inside_a_name(client, directory, sample_merchants):
    assert found(client, directory, q="火锅") == {"重庆老火锅"}  # the expired 过期火锅店 stays hidden
    assert found(client, directory, q="口腔") == {"仁爱口腔诊所"}
    assert found(client, directory, q="药房") == {"康宁大药房"}


def test_address_and_discount_text(client, directory, sample_merchants):
    assert found(client, directory, q="解放碑") == {"重庆老火锅"}
    assert found(client, directory, q="观音桥") == {"山城小面"}
    assert found(client, directory, q="洁牙") == {"仁爱口腔诊所"}


def test_search_combines_with_filters_and_counts(client, directory, sample_merchants):
    html = client.get(directory.url, {"q": "渝中区", "category": "医疗"}).content.decode()
    assert "“渝中区”的" in html and "康宁大药房" in html and "重庆老火锅" not in html
    block = re.search(r'<select id="m-category".*?</select>', html, re.S).group(0)
    assert "餐饮（2）" in block and "医疗（1）" in block


def test_no_match_says_so(client, directory, sample_merchants):
    html = client.get(directory.url, {"q": "潜水"}).content.decode()
    assert "没有符合条件的商户" in html and "共 0 家" in html


def test_imported_merchants_are_searchable(categories, directory, client):
    plan_import(csv_bytes(GOOD_ROWS), "a.csv").apply()
    assert found(client, directory, q="口腔") == {"仁爱口腔诊所"}
    changed = [list(row) for row in GOOD_ROWS]
    changed[2][6] = "购书满百减二十"
    plan_import(csv_bytes(changed), "b.csv").apply()
    assert found(client, directory, q="满百") == {"新华书店"}
