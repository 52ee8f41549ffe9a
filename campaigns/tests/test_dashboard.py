"""The admin dashboard shows the work waiting: enrolments to review, pages awaiting review, merchants ending."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from campaigns.idcard import make_id_number
from campaigns.models import Enrolment
from campaigns.tests.conftest import mutual_aid_data
from core.roles import EDITORS, MODERATORS
from merchants.models import Category, Merchant
from speeches.tests.factories import SpeechPageFactory


def member_of(django_user_model, username, group):
    user = django_user_model.objects.create_user(username, password="pw-123456789")
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def waiting_work(client, campaign, speech_index):
    for n in range(3):
        data = mutual_aid_data(id_number=make_id_number(f"4201061990031{n}123"), name=f"职工{n}")
        assert client.post(campaign.url, data, REMOTE_ADDR=f"10.0.0.{n}").status_code == 302
    Enrolment.objects.filter(pk=Enrolment.objects.order_by("pk").first().pk).update(status="approved")
    today = timezone.localdate()
    food = Category.objects.get_or_create(name="餐饮")[0]
    Merchant.objects.create(name="即将到期的面馆", category=food, discount="9折",
                            valid_to=today + datetime.timedelta(days=12))
    Merchant.objects.create(name="长期合作超市", category=food, discount="95折")
    Merchant.objects.create(name="下季度到期药房", category=food, discount="9折",
                            valid_to=today + datetime.timedelta(days=90))


def test_moderator_sees_enrolments_pages_and_merchants_waiting(client, django_user_model, waiting_work,
                                                               speech_index):
    editor = member_of(django_user_model, "bianji", EDITORS)
    page = SpeechPageFactory(parent=speech_index, title="待审核的讲话稿")
    page.save_revision(user=editor)
    page.get_workflow().start(page, editor)
    moderator = member_of(django_user_model, "shenhe", MODERATORS)
    client.force_login(moderator)
    html = client.get("/admin/").content.decode()
    enrolments = html[html.index('id="enrolments-to-review-content"'):]
    assert "待审核的报名" in html and "共 <strong>2</strong> 项" in enrolments
    assert "/admin/enrolments/?status=pending" in enrolments
    merchants = html[html.index('id="merchants-ending-content"'):]
    assert "即将到期的面馆" in merchants and "还有 12 天" in merchants
    assert "长期合作超市" not in merchants and "下季度到期药房" not in merchants
    assert "待审核的讲话稿" in html  # Wagtail's own 「等待您审核」 panel
    assert "批准并发布" in html  # approving the one task of 审核发布 publishes, and the button says so


def test_editor_sees_no_enrolments_panel(client, django_user_model, waiting_work):
    client.force_login(member_of(django_user_model, "bianji", EDITORS))
    html = client.get("/admin/").content.decode()
    assert 'id="enrolments-to-review-content"' not in html and "职工1" not in html
    assert 'id="merchants-ending-content"' in html
