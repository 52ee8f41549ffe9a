import datetime

import pytest
from django.core.exceptions import ValidationError
from wagtail.test.utils import WagtailPageTestCase

from home.models import HomePage
from merchants.models import Merchant, MerchantDirectoryPage, MerchantStatus, pinyin_key
from merchants.validation import phone_is_valid

DAY = datetime.timedelta(days=1)


class DirectoryPageTreeRules(WagtailPageTestCase):
    def test_directory_lives_under_home_and_has_no_children(self):
        self.assertAllowedParentPageTypes(MerchantDirectoryPage, {HomePage})
        self.assertAllowedSubpageTypes(MerchantDirectoryPage, set())
        self.assertCanCreateAt(HomePage, MerchantDirectoryPage)


def test_status_follows_dates_and_active_flag(make_merchant, today):
    current = make_merchant("当前商户", valid_from=today - DAY, valid_to=today + DAY)
    last_day = make_merchant("今天到期", valid_to=today)
    expired = make_merchant("昨天到期", valid_to=today - DAY)
    pending = make_merchant("明天开始", valid_from=today + DAY)
    inactive = make_merchant("已停用", active=False)
    open_ended = make_merchant("长期有效")
    assert current.status() == MerchantStatus.VALID
    assert last_day.status() == MerchantStatus.VALID
    assert expired.status() == MerchantStatus.EXPIRED and expired.status_label == "已过期"
    assert pending.status() == MerchantStatus.PENDING
    assert inactive.status() == MerchantStatus.INACTIVE
    visible = set(Merchant.objects.visible().values_list("name", flat=True))
    assert visible == {"当前商户", "今天到期", "长期有效"}
    # expiry happens by itself as the days pass, without anyone editing the listing
    assert "今天到期" not in set(Merchant.objects.visible(today + DAY).values_list("name", flat=True))
    assert "明天开始" in set(Merchant.objects.visible(today + DAY).values_list("name", flat=True))
    assert set(Merchant.objects.with_status("expired").values_list("name", flat=True)) == {"昨天到期"}
    assert set(Merchant.objects.with_status("pending").values_list("name", flat=True)) == {"明天开始"}
    assert set(Merchant.objects.with_status("inactive").values_list("name", flat=True)) == {"已停用"}
    assert last_day.is_visible() and open_ended.is_visible(today)


def test_end_before_start_is_rejected(categories, today):
    merchant = Merchant(name="日期颠倒", category=categories["餐饮"], discount="9折",
                        valid_from=today, valid_to=today - DAY)
    with pytest.raises(ValidationError) as error:
        merchant.full_clean()
    assert "有效期结束日期不能早于开始日期" in str(error.value)


def test_name_and_address_identify_a_merchant(make_merchant, categories):
    from django.db import IntegrityError, transaction

    make_merchant("重复商户", address="一号路1号")
    make_merchant("重复商户", address="二号路2号")
    with pytest.raises(IntegrityError), transaction.atomic():
        Merchant.objects.create(name="重复商户", address="一号路1号", category=categories["购物"], discount="9折")


@pytest.mark.parametrize("phone", ["13812345678", "023-63861234", "02363861234", "63861234", "400-123-4567",
                                   "4001234567", "95588", "023-63861234-801", "13812345678/023-63861234",
                                   "(023)63861234", "138 1234 5678"])
def test_phone_numbers_accepted(phone):
    assert phone_is_valid(phone)


@pytest.mark.parametrize("phone", ["123", "0000000", "1381234567", "138123456789", "电话号码", "023-123", "abc-defg"])
def test_phone_numbers_rejected(phone):
    assert not phone_is_valid(phone)


def test_phone_is_normalised_on_save(make_merchant):
    assert make_merchant("空格电话", phone="138 1234 5678").phone == "13812345678"


def test_pinyin_sort_key_orders_names_by_pinyin(make_merchant):
    for name in ["中山药房", "阿斌烧烤", "重庆老火锅", "白云超市"]:
        make_merchant(name)
    assert list(Merchant.objects.values_list("name", flat=True)) == ["阿斌烧烤", "白云超市", "重庆老火锅", "中山药房"]
    assert pinyin_key("重庆") == "chong2 qing4"


def test_campaign_link_is_limited_to_live_pages(make_merchant, home_page):
    from home.models import StandardPage

    draft = StandardPage(title="草稿活动", slug="draft", live=False)
    home_page.add_child(instance=draft)
    merchant = make_merchant("关联活动商户")
    merchant.campaign = draft
    with pytest.raises(ValidationError):
        merchant.full_clean()
    merchant.campaign = home_page
    merchant.full_clean()
