"""Demo merchants for `make run`, loaded from demo_data/merchants.xlsx through the normal importer."""

from pathlib import Path

from merchants.importing import import_file
from merchants.models import MerchantDirectoryPage

DEMO_FILE = Path(__file__).resolve().parent / "demo_data" / "merchants.xlsx"


def ensure_directory(home):
    page = MerchantDirectoryPage.objects.child_of(home).first()
    if page is None:
        page = MerchantDirectoryPage(
            title="特惠商户", slug="merchants", show_in_menus=True,
            intro="<p>工会会员服务卡持卡职工在以下商户消费可享受专属优惠。可按类别、区域筛选或直接搜索。</p>",
        )
        home.add_child(instance=page)
        page.save_revision().publish()
    return page


def load_demo(home, log):
    ensure_directory(home)
    plan = import_file(DEMO_FILE)
    plan.apply()
    log("特惠商户：" + plan.summary())
