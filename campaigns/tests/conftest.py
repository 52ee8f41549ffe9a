import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from campaigns.idcard import make_id_number

MUTUAL_AID_BLOCK = "11111111-1111-4111-8111-111111111111"
SERVICE_CARD_BLOCK = "22222222-2222-4222-8222-222222222222"
VALID_ID = make_id_number("42010619900307123")
VALID_ID_X = make_id_number("42010619850712006")  # check digit X


def body(closing_date=None):
    return [
        {"type": "text", "value": "<p>聚小钱办大事，有病人帮我、无病我帮人。</p>", "id": "t1"},
        {"type": "key_figures", "id": "k1",
         "value": {"heading": "互助成效", "figures": [{"value": "140万人", "label": "城市圈参加职工"}]}},
        {"type": "faq", "id": "f1",
         "value": {"heading": "常见问题", "items": [{"question": "谁可以参加？", "answer": "本单位在职工会会员。"}]}},
        {"type": "enrolment_form", "id": MUTUAL_AID_BLOCK, "value": {
            "form_kind": "mutual_aid", "title": "职工医疗互助入会登记", "intro": "每份30元，一年一期。",
            "plan_options": ["住院医疗互助（每份30元）", "特殊病种互助（每份50元）"], "max_shares": 5,
            "pickup_note": "", "consent_text": "本人已阅读并同意《职工医疗互助章程》。",
            "closing_date": closing_date.isoformat() if closing_date else None}},
        {"type": "enrolment_form", "id": SERVICE_CARD_BLOCK, "value": {
            "form_kind": "service_card", "title": "工会会员服务卡申领", "intro": "", "plan_options": [],
            "max_shares": 5, "pickup_note": "所属基层工会办公室", "consent_text": "本人同意工会使用上述信息办卡。",
            "closing_date": None}},
    ]


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def campaign_index(home_page):
    from campaigns.models import CampaignIndexPage

    index = CampaignIndexPage(title="活动专题", slug="campaigns", show_in_menus=True)
    home_page.add_child(instance=index)
    index.save_revision().publish()
    return index


def make_campaign(index, slug="mutual-aid", start=None, end=None, closing_date=None, **fields):
    from campaigns.models import CampaignPage

    today = timezone.localdate()
    page = CampaignPage(
        title=fields.pop("title", "职工医疗互助活动"), slug=slug,
        start_date=start or today - datetime.timedelta(days=10),
        end_date=end if end is not None else today + datetime.timedelta(days=30),
        contact_email=fields.pop("contact_email", "huzhu@example.org"),
        intro="<p>第五期职工医疗互助活动开始报名。</p>", body=body(closing_date), **fields,
    )
    index.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def campaign(campaign_index):
    return make_campaign(campaign_index)


def mutual_aid_data(**overrides):
    data = {"block_id": MUTUAL_AID_BLOCK, "name": "张三", "id_number": VALID_ID, "mobile": "13812345678",
            "employer": "武汉船舶工业公司", "branch": "武船工会", "plan": "住院医疗互助（每份30元）", "shares": "2",
            "consent": "on", "website": ""}
    data.update(overrides)
    return data


def service_card_data(**overrides):
    data = {"block_id": SERVICE_CARD_BLOCK, "name": "李四", "id_number": VALID_ID_X, "mobile": "15912345678",
            "employer": "市第一医院", "branch": "市第一医院工会", "membership_number": "", "delivery": "pickup",
            "address": "", "consent": "on", "website": ""}
    data.update(overrides)
    return data
