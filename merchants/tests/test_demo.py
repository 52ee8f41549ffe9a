from collections import Counter

from merchants.demo import DEMO_FILE, load_demo
from merchants.importing import import_file
from merchants.models import Merchant, MerchantDirectoryPage


def test_demo_spreadsheet_imports_without_errors(categories):
    plan = import_file(DEMO_FILE)
    assert plan.ok, plan.error_lines()
    assert len(plan.created) >= 60


def test_demo_loads_through_the_importer_and_is_idempotent(home_page, client):
    lines = []
    load_demo(home_page, lines.append)
    assert "新建" in lines[0]
    count = Merchant.objects.count()
    assert count >= 60
    visible = Merchant.objects.visible()
    assert visible.count() >= 60
    assert set(Counter(visible.values_list("category__name", flat=True))) >= {
        "购物", "餐饮", "医疗", "出行", "文体", "教育培训", "生活服务"}
    assert len(set(visible.values_list("district", flat=True))) >= 6
    assert Merchant.objects.exclude(pk__in=visible).exists()  # a few ended listings show the admin marking

    load_demo(home_page, lines.append)
    assert Merchant.objects.count() == count and MerchantDirectoryPage.objects.count() == 1
    assert f"无变化 {count} 家" in lines[1]

    directory = MerchantDirectoryPage.objects.get()
    assert directory.live and directory.show_in_menus
    html = client.get(directory.url).content.decode()
    assert "重庆老火锅（解放碑店）" in html and "第 1 / " in html
