import datetime

import pytest
from django.utils import timezone


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def categories(db):
    from merchants.models import Category

    return {c.name: c for c in Category.objects.all()}


@pytest.fixture
def make_merchant(categories):
    from merchants.models import Merchant

    def make(name, category="餐饮", **fields):
        fields.setdefault("discount", "持卡消费9折")
        fields.setdefault("address", f"{name}路1号")
        merchant = Merchant(name=name, category=categories[category], **fields)
        merchant.full_clean()
        merchant.save()
        from wagtail.search.backends import get_search_backend

        get_search_backend().add(merchant)
        return merchant

    return make


@pytest.fixture
def directory(home_page):
    from merchants.models import MerchantDirectoryPage

    page = MerchantDirectoryPage(title="特惠商户", slug="merchants")
    home_page.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def sample_merchants(make_merchant, today):
    """Eight merchants: six visible in three categories and districts, one expired, one inactive."""
    year = datetime.timedelta(days=365)
    return {
        "hotpot": make_merchant("重庆老火锅", "餐饮", district="渝中区", address="解放碑民族路88号",
                                discount="持卡消费8.8折", phone="023-63861234"),
        "noodles": make_merchant("山城小面", "餐饮", district="江北区", address="观音桥步行街3号"),
        "bbq": make_merchant("阿斌烧烤", "餐饮", district="渝中区", address="较场口中兴路9号"),
        "dentist": make_merchant("仁爱口腔诊所", "医疗", district="南岸区", address="南坪西路12号",
                                 discount="洁牙半价"),
        "pharmacy": make_merchant("康宁大药房", "医疗", district="渝中区", address="大坪正街6号"),
        "books": make_merchant("新华书店", "购物", district="江北区", address="建新北路20号",
                               valid_from=today - year, valid_to=today + year),
        "expired": make_merchant("过期火锅店", "餐饮", district="渝中区", address="已关门路1号",
                                 valid_from=today - 2 * year, valid_to=today - datetime.timedelta(days=1)),
        "inactive": make_merchant("停用超市", "购物", district="江北区", address="停用路1号", active=False),
    }
