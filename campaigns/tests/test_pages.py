import datetime

from django.utils import timezone
from wagtail.test.utils import WagtailPageTestCase

from campaigns.models import CampaignIndexPage, CampaignPage
from campaigns.tests.conftest import make_campaign
from home.models import HomePage, StandardPage


class CampaignPageTreeRules(WagtailPageTestCase):
    def test_index(self):
        self.assertAllowedParentPageTypes(CampaignIndexPage, {HomePage})
        self.assertAllowedSubpageTypes(CampaignIndexPage, {CampaignPage})

    def test_campaign(self):
        self.assertAllowedParentPageTypes(CampaignPage, {CampaignIndexPage})
        self.assertAllowedSubpageTypes(CampaignPage, set())
        self.assertCanNotCreateAt(HomePage, CampaignPage)
        self.assertCanNotCreateAt(StandardPage, CampaignPage)

    def test_home_accepts_campaign_index(self):
        self.assertCanCreateAt(HomePage, CampaignIndexPage)


def test_campaign_page_renders_blocks_and_status(client, campaign):
    response = client.get(campaign.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "进行中" in html
    assert "140万人" in html and "城市圈参加职工" in html
    assert "<summary>谁可以参加？</summary>" in html
    assert "职工医疗互助入会登记" in html and "工会会员服务卡申领" in html
    assert "住院医疗互助（每份30元）" in html
    assert html.count('name="csrfmiddlewaretoken"') == 2
    assert "campaigns/campaigns.css" in html


def test_status_labels(campaign_index):
    today = timezone.localdate()
    upcoming = make_campaign(campaign_index, slug="upcoming", start=today + datetime.timedelta(days=3))
    ended = make_campaign(campaign_index, slug="ended", start=today - datetime.timedelta(days=30),
                          end=today - datetime.timedelta(days=1))
    assert upcoming.status_label == "未开始"
    assert ended.status_label == "已结束"
    assert make_campaign(campaign_index, slug="open").status_label == "进行中"


def test_closed_campaigns_show_message_and_no_form(client, campaign_index):
    today = timezone.localdate()
    upcoming = make_campaign(campaign_index, slug="upcoming", start=today + datetime.timedelta(days=3))
    ended = make_campaign(campaign_index, slug="ended", start=today - datetime.timedelta(days=30),
                          end=today - datetime.timedelta(days=1))
    html = client.get(upcoming.url).content.decode()
    assert "未开始" in html and "本活动尚未开始" in html and "<form method=\"post\"" not in html
    html = client.get(ended.url).content.decode()
    assert "已结束" in html and "本活动已结束，报名已关闭" in html and "<form method=\"post\"" not in html


def test_index_lists_campaigns_with_status(client, campaign_index, campaign):
    html = client.get(campaign_index.url).content.decode()
    assert campaign.title in html and "进行中" in html


def test_home_page_section(client, campaign):
    html = client.get("/").content.decode()
    assert "活动专题" in html and campaign.title in html


def test_end_date_before_start_is_rejected(campaign_index):
    from django.core.exceptions import ValidationError

    page = CampaignPage(title="x", slug="x", start_date=datetime.date(2026, 5, 1), end_date=datetime.date(2026, 4, 1))
    try:
        page.full_clean()
    except ValidationError as error:
        assert "结束日期不能早于开始日期。" in str(error)
    else:
        raise AssertionError("end date before start must be rejected")


def test_editor_can_open_campaign_editor_with_form_block(client, django_user_model, campaign_index, campaign):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-123456789")
    client.force_login(admin)
    response = client.get(f"/admin/pages/add/campaigns/campaignpage/{campaign_index.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("enrolment_form", "key_figures", "faq", "form_kind", "plan_options", "closing_date", "max_shares"):
        assert name in html
    assert client.get(f"/admin/pages/{campaign.pk}/edit/").status_code == 200


def test_forged_confirmation_link_shows_nothing(client, campaign):
    response = client.get(campaign.url + "confirmed/1-0123456789abcdef0123456789abcdef/")
    assert response.status_code == 302 and response["Location"] == campaign.url
