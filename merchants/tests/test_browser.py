import io

import pytest
from PIL import Image, ImageStat

pytestmark = pytest.mark.browser


@pytest.fixture
def live_directory(site_on_live_server, home_page):
    from merchants.models import Category, Merchant, MerchantDirectoryPage

    page = MerchantDirectoryPage(title="特惠商户", slug="merchants")
    home_page.add_child(instance=page)
    page.save_revision().publish()
    # a previous live-server test may have flushed the categories the migration created
    categories = {name: Category.objects.get_or_create(name=name)[0] for name in ("餐饮", "医疗", "购物")}
    rows = [("重庆老火锅（解放碑店）", "餐饮", "渝中区"), ("山城小面", "餐饮", "江北区"),
            ("仁爱口腔诊所", "医疗", "南岸区"), ("康宁大药房", "医疗", "渝中区"), ("新华书店", "购物", "江北区")]
    for name, category, district in rows:
        Merchant.objects.create(name=name, category=categories[category], district=district,
                                address=f"{district}民主路{len(name)}号一单元临街铺面", phone="023-63861234",
                                discount="持工会会员服务卡消费享受九折优惠（特价商品除外）")
    return site_on_live_server.url + page.url


def test_directory_on_phone_filters_by_category(live_directory, phone_page):
    phone_page.set_viewport_size({"width": 360, "height": 740})
    phone_page.goto(live_directory)
    assert phone_page.locator("h1").inner_text() == "特惠商户"
    assert phone_page.locator(".merchant-card").count() == 5

    phone_page.locator(".category-chips a", has_text="医疗").click()
    phone_page.wait_for_url("**category=*")
    assert phone_page.locator(".count").inner_text() == "医疗类商户共 2 家"
    names = phone_page.locator(".merchant-name").all_inner_texts()
    assert sorted(names) == ["仁爱口腔诊所", "康宁大药房"]
    assert phone_page.locator(".category-chips a[aria-current=true]").inner_text().startswith("医疗")
    assert phone_page.locator("#m-category").input_value() == "医疗"
    # nothing sticks out sideways at 360px
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 360

    png = phone_page.screenshot(full_page=True)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width == 720  # 360 CSS pixels at device scale 2
    spread = ImageStat.Stat(image.convert("L")).stddev[0]
    colours = len(image.resize((180, image.height // 4)).getcolors(maxcolors=1 << 20))
    assert spread > 20 and colours > 50, (spread, colours)


def test_select_filters_work_without_chips(live_directory, phone_page):
    phone_page.goto(live_directory)
    phone_page.select_option("#m-district", "江北区")
    phone_page.get_by_role("button", name="查找").click()
    phone_page.wait_for_url("**district=*")
    assert sorted(phone_page.locator(".merchant-name").all_inner_texts()) == ["山城小面", "新华书店"]
