import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from campaigns.exports import EXPORT_COLUMNS
from campaigns.idcard import make_id_number
from campaigns.models import Enrolment, EnrolmentReview
from campaigns.tests.conftest import export_file, make_campaign, mutual_aid_data, service_card_data
from core.models import BackgroundJob


def staff_user(django_user_model, username, *codenames):
    user = django_user_model.objects.create_user(username, password="pw-123456789")
    perms = ["wagtailadmin.access_admin", "campaigns.view_enrolment", "campaigns.change_enrolment", *codenames]
    for name in perms:
        app, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


@pytest.fixture
def reviewer(django_user_model):
    return staff_user(django_user_model, "reviewer")


@pytest.fixture
def officer(django_user_model):
    return staff_user(django_user_model, "officer", "campaigns.view_id_number")


@pytest.fixture
def enrolments(client, campaign, campaign_index):
    other = make_campaign(campaign_index, slug="card", title="会员服务卡发放")
    ids = [make_id_number(f"420106199003{n + 10:02d}123") for n in range(6)]
    for n, number in enumerate(ids[:4]):
        data = mutual_aid_data(id_number=number, name=f"职工{n}", branch="武船工会" if n % 2 else "武钢工会")
        assert client.post(campaign.url, data, REMOTE_ADDR=f"10.0.0.{n}").status_code == 302
    for n, number in enumerate(ids[4:]):
        assert client.post(other.url, service_card_data(id_number=number, name=f"会员{n}"),
                           REMOTE_ADDR=f"10.0.1.{n}").status_code == 302
    return Enrolment.objects.order_by("pk")


INDEX = "/admin/enrolments/"


def test_listing_masks_ids_and_filters(client, reviewer, enrolments, campaign):
    client.force_login(reviewer)
    response = client.get(INDEX)
    html = response.content.decode()
    assert response.status_code == 200
    for enrolment in enrolments:
        assert enrolment.reference in html and enrolment.id_number_masked in html
        assert enrolment.id_number not in html
    html = client.get(INDEX, {"campaign": campaign.pk}).content.decode()
    assert "HZ-" in html and "FWK-" not in html
    html = client.get(INDEX, {"branch": "武船"}).content.decode()
    assert "职工1" in html and "职工0" not in html
    html = client.get(INDEX, {"q": "会员1"}).content.decode()
    assert "会员1" in html and "职工0" not in html
    Enrolment.objects.filter(name="职工2").update(status="approved")
    html = client.get(INDEX, {"status": "approved"}).content.decode()
    assert "职工2" in html and "职工3" not in html
    html = client.get(INDEX, {"created_at_from": "2000-01-01", "created_at_to": "2000-12-31"}).content.decode()
    assert "职工1" not in html
    assert "导出 Excel" not in html and "/add/" not in html


def test_full_id_only_with_permission(client, reviewer, officer, enrolments):
    enrolment = enrolments[0]
    url = f"{INDEX}edit/{enrolment.pk}/"
    client.force_login(reviewer)
    html = client.get(url).content.decode()
    assert enrolment.id_number_masked in html and enrolment.id_number not in html
    for fmt in ("csv", "xlsx"):  # Wagtail turns PermissionDenied into a redirect with a message
        response = client.get(reverse("enrolments:export", args=(fmt,)))
        assert response.status_code == 302 and "Content-Disposition" not in response
        assert client.post(reverse("enrolments:export", args=(fmt,))).status_code == 302
    assert not BackgroundJob.objects.exists()
    from campaigns.models import EnrolmentAuditLog

    assert not EnrolmentAuditLog.objects.filter(action="view_id").exists()  # the reviewer saw no full number
    client.force_login(officer)
    html = client.get(url).content.decode()
    assert enrolment.id_number in html
    assert "导出 Excel" in client.get(INDEX).content.decode()
    seen = EnrolmentAuditLog.objects.get(action="view_id")  # every view of a full ID number is accounted for
    assert seen.actor == officer and seen.campaign_id == enrolment.campaign_id and seen.note == enrolment.reference
    assert enrolment.name not in seen.note and enrolment.id_number not in seen.note


def test_review_changes_are_logged(client, reviewer, enrolments):
    enrolment = enrolments[0]
    url = f"{INDEX}edit/{enrolment.pk}/"
    client.force_login(reviewer)
    response = client.post(url, {"status": "returned", "review_reason": ""})
    assert response.status_code == 200 and "退回时请填写退回原因。" in response.content.decode()
    response = client.post(url, {"status": "pending", "review_reason": ""})
    assert "状态没有变化" in response.content.decode()
    assert EnrolmentReview.objects.count() == 0
    assert client.post(url, {"status": "returned", "review_reason": "基层工会名称有误"}).status_code == 302
    assert client.post(url, {"status": "approved", "review_reason": ""}).status_code == 302
    enrolment.refresh_from_db()
    assert enrolment.status == "approved" and enrolment.review_reason == ""
    reviews = list(EnrolmentReview.objects.order_by("pk"))
    assert [(r.from_status, r.to_status, r.reason, r.user) for r in reviews] == [
        ("pending", "returned", "基层工会名称有误", reviewer), ("returned", "approved", "", reviewer)]
    assert all(r.created_at for r in reviews)
    html = client.get(url).content.decode()
    assert "基层工会名称有误" in html and "reviewer" in html


def test_no_add_view(client, officer):
    client.force_login(officer)
    assert client.get(INDEX + "add/").status_code == 404


def test_campaign_with_enrolments_cannot_be_deleted(client, django_user_model, enrolments, campaign):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.org", "pw-123456789")
    client.force_login(admin)
    response = client.post(f"/admin/pages/{campaign.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "条报名记录，不能删除" in response.content.decode()
    campaign.refresh_from_db()
    assert Enrolment.objects.filter(campaign=campaign).count() == 4


@pytest.fixture
def squatted(client, campaign):
    assert client.post(campaign.url, mutual_aid_data(), REMOTE_ADDR="10.0.2.1").status_code == 302
    assert client.post(campaign.url, mutual_aid_data(name="冒名者", mobile="13900000000"),
                       REMOTE_ADDR="10.0.2.2").status_code == 302
    assert client.post(campaign.url, mutual_aid_data(id_number=make_id_number("42010619900401123"), name="无关职工"),
                       REMOTE_ADDR="10.0.2.3").status_code == 302
    first = Enrolment.objects.get(name="张三")
    return first, Enrolment.objects.get(name="冒名者")


def test_conflicts_are_flagged_and_filtered(client, reviewer, squatted):
    first, conflict = squatted
    client.force_login(reviewer)
    html = client.get(INDEX).content.decode()
    assert f"⚠ 冲突：与 {first.reference} 身份证号相同" in html and "⚠ 有 1 条同号冲突报名" in html
    assert "待核实" in html
    html = client.get(INDEX, {"conflict": "yes"}).content.decode()
    assert "冒名者" in html and first.reference in html and "无关职工" not in html
    html = client.get(INDEX, {"conflict": "no"}).content.decode()
    assert "无关职工" in html and "冒名者" not in html and first.reference not in html
    html = client.get(INDEX, {"status": "conflict"}).content.decode()
    assert "冒名者" in html and "无关职工" not in html
    html = client.get(f"{INDEX}edit/{conflict.pk}/").content.decode()
    assert "身份证号冲突，待核实" in html and f"{INDEX}edit/{first.pk}/" in html and "13812345678" in html
    html = client.get(f"{INDEX}edit/{first.pk}/").content.decode()
    assert "另有 1 条报名使用了本条的身份证号" in html and conflict.reference in html


def test_conflict_status_only_for_conflicts(client, reviewer, squatted):
    first, conflict = squatted
    client.force_login(reviewer)
    response = client.post(f"{INDEX}edit/{first.pk}/", {"status": "conflict", "review_reason": ""})
    assert response.status_code == 200 and "“待核实”只用于身份证号与先前报名相同" in response.content.decode()
    assert client.post(f"{INDEX}edit/{conflict.pk}/", {"status": "approved", "review_reason": ""}).status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == "approved" and conflict.conflict_of == first


def test_export_marks_conflicts(client, officer, squatted):
    first, conflict = squatted
    client.force_login(officer)
    body = export_file("csv").decode("utf-8-sig")
    rows = {row[3]: row for row in csv.reader(io.StringIO(body))}
    column = [column.title for column, _ in EXPORT_COLUMNS].index("身份证号冲突")
    assert rows["冒名者"][column] == f"⚠ 冲突：与 {first.reference} 身份证号相同"
    assert rows["张三"][column] == "⚠ 有 1 条同号冲突报名" and rows["无关职工"][column] == ""
