import re

import pytest

from merchants.models import Merchant


def count_in(html):
    return int(re.search(r"商户共 (\d+) 家", html).group(1))


def options(html, select_id):
    block = re.search(rf'<select id="{select_id}".*?</select>', html, re.S).group(0)
    return dict(re.findall(r'<option value="([^"]+)"[^>]*>[^<（]+（(\d+)）</option>', block))


def names(html):
    return re.findall(r'<h2 class="merchant-name"><a href="[^"]+">([^<]+)</a></h2>', html)


def test_directory_lists_only_current_merchants(client, directory, sample_merchants):
    html = client.get(directory.url).content.decode()
    assert count_in(html) == 6
    assert "重庆老火锅" in html and "持卡消费8.8折" in html and 'href="tel:023-63861234"' in html
    assert "过期火锅店" not in html and "停用超市" not in html


def test_category_and_district_filters_with_counts(client, directory, sample_merchants):
    html = client.get(directory.url).content.decode()
    assert options(html, "m-category") == {"购物": "1", "餐饮": "3", "医疗": "2"}
    assert options(html, "m-district") == {"江北区": "2", "南岸区": "1", "渝中区": "3"}
    # chips carry the same counts and keep the other filters
    assert re.search(r'<a href="\?category=%E9%A4%90%E9%A5%AE"\s*>餐饮 <span class="n">3</span>', html)

    food = client.get(directory.url, {"category": "餐饮"}).content.decode()
    assert count_in(food) == 3 and set(names(food)) == {"重庆老火锅", "山城小面", "阿斌烧烤"}
    # district counts follow the chosen category, category counts stay for the whole district
    assert options(food, "m-district") == {"江北区": "1", "渝中区": "2"}

    yuzhong = client.get(directory.url, {"district": "渝中区"}).content.decode()
    assert count_in(yuzhong) == 3 and options(yuzhong, "m-category") == {"餐饮": "2", "医疗": "1"}

    both = client.get(directory.url, {"category": "餐饮", "district": "渝中区"}).content.decode()
    assert set(names(both)) == {"重庆老火锅", "阿斌烧烤"}
    assert "渝中区餐饮类商户共 2 家" in both


def test_expired_merchant_drops_out_of_counts(client, directory, sample_merchants, today):
    sample_merchants["books"].valid_to = today.replace(year=today.year - 1)
    sample_merchants["books"].valid_from = None
    sample_merchants["books"].save()
    html = client.get(directory.url).content.decode()
    assert "购物" not in options(html, "m-category") and count_in(html) == 5


def test_sort_by_pinyin_and_newest(client, directory, sample_merchants):
    by_name = names(client.get(directory.url).content.decode())
    assert by_name == ["阿斌烧烤", "重庆老火锅", "康宁大药房", "仁爱口腔诊所", "山城小面", "新华书店"]
    newest = names(client.get(directory.url, {"sort": "newest"}).content.decode())
    assert newest == ["新华书店", "康宁大药房", "仁爱口腔诊所", "阿斌烧烤", "山城小面", "重庆老火锅"]


def test_pagination(client, directory, make_merchant, settings):
    settings.MERCHANTS_PER_PAGE = 2
    for n in range(5):
        make_merchant(f"商户{n}", district="渝中区")
    first = client.get(directory.url, {"district": "渝中区"}).content.decode()
    assert "第 1 / 3 页" in first and names(first) == ["商户0", "商户1"]
    assert "district=%E6%B8%9D%E4%B8%AD%E5%8C%BA&amp;page=2" in first
    last = client.get(directory.url, {"district": "渝中区", "page": 3}).content.decode()
    assert names(last) == ["商户4"]


@pytest.mark.parametrize("params", [
    {"page": "999"}, {"page": "-1"}, {"page": "abc"}, {"category": "不存在"}, {"district": "<script>"},
    {"sort": "'; drop table"}, {"q": '"()*:^-'}, {"q": "AND OR NOT NEAR"}, {"q": "x" * 500}, {"category": "\x00"},
])
def test_odd_input_is_never_an_error(client, directory, sample_merchants, params):
    response = client.get(directory.url, params)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main")[1]


def test_detail_page(client, directory, sample_merchants):
    hotpot = sample_merchants["hotpot"]
    html = client.get(directory.url).content.decode()
    assert f'href="{directory.url}{hotpot.pk}/"' in html
    response = client.get(f"{directory.url}{hotpot.pk}/")
    detail = response.content.decode()
    assert response.status_code == 200
    assert "<h1>重庆老火锅</h1>" in detail and "解放碑民族路88号" in detail and "持卡消费8.8折" in detail
    assert "长期有效" in detail and 'aria-label="当前位置"' in detail
    assert client.get(f"{directory.url}{sample_merchants['expired'].pk}/").status_code == 404
    assert client.get(f"{directory.url}{sample_merchants['inactive'].pk}/").status_code == 404
    assert client.get(f"{directory.url}999999/").status_code == 404


def test_detail_links_live_campaign(client, directory, make_merchant, home_page):
    from home.models import StandardPage

    campaign = StandardPage(title="金秋消费季", slug="autumn")
    home_page.add_child(instance=campaign)
    campaign.save_revision().publish()
    merchant = make_merchant("活动商户", campaign=campaign)
    detail = client.get(f"{directory.url}{merchant.pk}/").content.decode()
    assert "相关活动" in detail and 'href="/autumn/"' in detail


def test_printable_list_keeps_filters(client, directory, sample_merchants):
    html = client.get(directory.url, {"category": "医疗"}).content.decode()
    assert 'href="/merchants/print/?category=%E5%8C%BB%E7%96%97"' in html
    printable = client.get(f"{directory.url}print/", {"category": "医疗"}).content.decode()
    assert "<table>" in printable and "类别：医疗" in printable and "共 2 家" in printable
    assert "onclick" not in printable and "merchants/print.js" in printable  # no inline script (CSP)
    assert "仁爱口腔诊所" in printable and "重庆老火锅" not in printable
    from django.contrib.staticfiles import finders

    css = open(finders.find("merchants/merchants-print.css"), encoding="utf-8").read()
    assert "@media print" in css and "@page" in css


def test_logo_renditions_for_phones(client, directory, make_merchant):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    image = Image.objects.create(title="标志", file=get_test_image_file(size=(400, 300)))
    merchant = make_merchant("有标志的商户", logo=image)
    html = client.get(directory.url).content.decode()
    picture = re.search(r"<picture>.*?</picture>", html, re.S).group(0)
    assert 'type="image/webp"' in picture and ".webp 96w" in picture and ".webp 192w" in picture
    img = re.search(r"<img [^>]+>", picture).group(0)
    assert 'width="96"' in img and 'height="96"' in img and 'sizes="96px"' in img and ".jpg" in img
    detail = client.get(f"{directory.url}{merchant.pk}/").content.decode()
    assert 'type="image/webp"' in detail
    assert "320w" in detail and "400w" in detail  # 400×300 original: fitted, never enlarged


def test_home_page_section(client, directory, sample_merchants):
    html = client.get("/").content.decode()
    section = html.split('id="section-')[1]
    assert "特惠商户" in section and 'href="/merchants/"' in section
    assert "新华书店" in section and "过期火锅店" not in section


def test_no_external_assets(client, directory, sample_merchants):
    for url in [directory.url, f"{directory.url}print/", f"{directory.url}{sample_merchants['hotpot'].pk}/"]:
        html = client.get(url).content.decode()
        # absolute links to the site itself (canonical URL, share image) are fine; nothing from elsewhere
        assert not re.search(r'(src|href)="(https?:)?//(?!testserver/)', html)


def test_merchant_count_query_is_bounded(client, directory, make_merchant, django_assert_max_num_queries):
    for n in range(30):
        make_merchant(f"批量商户{n}", district=f"区{n % 3}")
    with django_assert_max_num_queries(30):
        assert client.get(directory.url).status_code == 200
    assert Merchant.objects.count() == 30


def test_sitemap_lists_current_merchant_pages(client, directory, sample_merchants):
    sitemap = client.get("/sitemap.xml").content.decode()
    assert f"{directory.url}{sample_merchants['hotpot'].pk}/</loc>" in sitemap
    assert f"{directory.url}{sample_merchants['expired'].pk}/</loc>" not in sitemap


def test_detail_page_declares_its_own_canonical_url_and_qr(client, directory, sample_merchants):
    merchant = Merchant.objects.visible().get(name="重庆老火锅")
    url = directory.merchant_url(merchant)
    html = client.get(url).content.decode()
    own = f"http://testserver{url}"
    assert f'<link rel="canonical" href="{own}">' in html
    assert f'<meta property="og:url" content="{own}">' in html
    assert f'<span class="share-link">{own}</span>' in html
    directory_html = client.get(directory.url, {"page": "1"}).content.decode()
    assert f'<link rel="canonical" href="http://testserver{directory.url}">' in directory_html
