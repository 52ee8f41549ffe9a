"""Staff review of uploads (filters, batch approval, single returns), notifications, audit log and erasure."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from openpyxl import load_workbook

from campaigns.models import (
    AuditAction,
    Enrolment,
    EnrolmentAuditLog,
    EnrolmentReview,
    RosterRow,
    RosterStatus,
    RosterUpload,
)
from campaigns.tests import sms_hook
from campaigns.tests.collective import latest_upload, make_agent, make_unit, person_id, person_row, upload
from campaigns.tests.conftest import VALID_ID_X, mutual_aid_data
from core.roles import EDITORS


@pytest.fixture(autouse=True)
def roster_settings(settings, tmp_path):
    settings.ROSTER_DIR = tmp_path / "rosters"
    settings.ENROLMENT_SMS_HOOK = "campaigns.tests.sms_hook.record"
    sms_hook.calls.clear()
    return settings


@pytest.fixture
def unit(db):
    return make_unit()


@pytest.fixture
def agent(unit):
    return make_agent(unit)


def grant(user, *names):
    for name in names:
        app, codename = name.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))


@pytest.fixture
def reviewer(django_user_model):
    user = django_user_model.objects.create_user("reviewer", password="Review-pass-2026")
    grant(user, "wagtailadmin.access_admin", "campaigns.view_enrolment", "campaigns.change_enrolment")
    return user


def confirmed_upload(client, campaign, unit, agent, rows, django_capture_on_commit_callbacks):
    client.force_login(agent.user)
    assert upload(client, campaign, unit, rows).status_code == 302
    roster_upload = latest_upload()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/agents/uploads/{roster_upload.pk}/confirm/", {"consent": "on"})
    roster_upload.refresh_from_db()
    return roster_upload


def all_messages():
    return [call["message"] for call in sms_hook.calls] + [m.body + m.subject for m in mail.outbox]


def assert_no_full_id(*numbers):
    for text in all_messages():
        for number in numbers:
            assert number not in text


def test_batch_approval_single_return_and_notifications(client, campaign, unit, agent, reviewer,
                                                        django_capture_on_commit_callbacks):
    rows = [person_row(n) for n in range(3)]
    roster_upload = confirmed_upload(client, campaign, unit, agent, rows, django_capture_on_commit_callbacks)
    # confirming told each member and the agent
    assert [c["mobile"] for c in sms_hook.calls] == [r["mobile"] for r in rows]
    assert all("已提交（由武船工会代为报名）" in c["message"] for c in sms_hook.calls)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["agent@example.org"]
    assert "新增 3 条" in mail.outbox[0].body
    assert_no_full_id(*[r["id_number"] for r in rows])

    client.force_login(reviewer)
    listing = client.get("/admin/roster_uploads/").content.decode()
    assert "武船工会" in listing and f"第{roster_upload.pk}批" in listing
    filtered = client.get("/admin/enrolments/", {"unit": unit.pk}).content.decode()
    assert "职工0" in filtered and "职工2" in filtered
    assert "职工1" in client.get("/admin/enrolments/", {"roster_upload": roster_upload.pk}).content.decode()
    review_page = client.get(f"/admin/roster_uploads/review/{roster_upload.pk}/").content.decode()
    assert "整批通过（3 条待审核）" in review_page and rows[0]["id_number"] not in review_page

    # one row returned with a reason through the ordinary review page
    returned = Enrolment.objects.get(name="职工1")
    sms_hook.calls.clear()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/enrolments/edit/{returned.pk}/",
                               {"status": "returned", "review_reason": "人员类别填写有误"})
    assert response.status_code == 302
    assert len(sms_hook.calls) == 1 and sms_hook.calls[0]["mobile"] == rows[1]["mobile"]
    assert "已退回" in sms_hook.calls[0]["message"] and "人员类别填写有误" in sms_hook.calls[0]["message"]
    assert returned.reference in sms_hook.calls[0]["message"]
    assert len(mail.outbox) == 1 and returned.id_number_masked in mail.outbox[0].body
    assert "人员类别填写有误" in mail.outbox[0].body
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.REVIEW, unit=unit, row_count=1).count() == 1

    # the rest approved in one action
    sms_hook.calls.clear()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/roster_uploads/review/{roster_upload.pk}/", follow=True)
    assert "已整批通过 2 条报名" in response.content.decode()
    statuses = dict(Enrolment.objects.values_list("name", "status"))
    assert statuses == {"职工0": "approved", "职工1": "returned", "职工2": "approved"}
    assert EnrolmentReview.objects.filter(to_status="approved", user=reviewer).count() == 2
    roster_upload.refresh_from_db()
    assert roster_upload.status == RosterStatus.APPROVED and roster_upload.reviewed_at
    assert sorted(c["mobile"] for c in sms_hook.calls) == sorted([rows[0]["mobile"], rows[2]["mobile"]])
    assert all("已通过" in c["message"] for c in sms_hook.calls)
    assert len(mail.outbox) == 1 and "2 条状态更新" in mail.outbox[0].subject
    entry = EnrolmentAuditLog.objects.get(action=AuditAction.APPROVE_UPLOAD)
    assert (entry.actor, entry.unit, entry.upload, entry.row_count) == (reviewer, unit, roster_upload, 2)
    assert_no_full_id(*[r["id_number"] for r in rows])

    # the agent sees each row's state
    client.force_login(agent.user)
    html = client.get(f"/agents/uploads/{roster_upload.pk}/").content.decode()
    assert html.count("已通过") >= 2 and "已退回" in html and "原因：人员类别填写有误" in html


def test_campaign_sms_text_is_editable(client, campaign, unit, agent, reviewer, django_capture_on_commit_callbacks):
    campaign.status_sms_template = "【市总工会】编号{受理编号}：{状态}。{原因}"
    campaign.save()
    roster_upload = confirmed_upload(client, campaign, unit, agent, [person_row(1)],
                                     django_capture_on_commit_callbacks)
    enrolment = Enrolment.objects.get()
    assert sms_hook.calls[-1]["message"].startswith(f"【市总工会】编号{enrolment.reference}：已提交")
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/roster_uploads/review/{roster_upload.pk}/")
    assert sms_hook.calls[-1]["message"] == f"【市总工会】编号{enrolment.reference}：已通过。"


def test_editors_cannot_review_uploads(client, campaign, unit, agent, django_user_model,
                                       django_capture_on_commit_callbacks):
    roster_upload = confirmed_upload(client, campaign, unit, agent, [person_row(1)],
                                     django_capture_on_commit_callbacks)
    editor = django_user_model.objects.create_user("editor", password="Editor-pass-2026")
    editor.groups.add(Group.objects.get(name=EDITORS))
    client.force_login(editor)
    for url in (f"/admin/roster_uploads/review/{roster_upload.pk}/", "/admin/roster_uploads/",
                "/admin/roster_audit/", f"/admin/roster_uploads/file/{roster_upload.pk}/",
                f"/admin/units/erase/{unit.pk}/"):
        response = client.get(url)
        assert response.status_code in (302, 403), url
        assert "职工1" not in response.content.decode()
    client.post(f"/admin/roster_uploads/review/{roster_upload.pk}/")
    assert Enrolment.objects.get().status == "pending"


def test_audit_log_records_actions_without_personal_data(client, campaign, unit, agent, reviewer,
                                                         django_capture_on_commit_callbacks):
    rows = [person_row(1), person_row(2, mobile="bad")]
    roster_upload = confirmed_upload(client, campaign, unit, agent, rows, django_capture_on_commit_callbacks)
    client.get(f"/agents/uploads/{roster_upload.pk}/export/")
    officer = reviewer
    grant(officer, "campaigns.view_id_number")
    client.force_login(officer)
    client.post(f"/admin/roster_uploads/review/{roster_upload.pk}/")
    assert client.get("/admin/enrolments/export/csv/", {"unit": unit.pk}).status_code == 200  # the count page
    assert client.post("/admin/enrolments/export/csv/", {"query": f"unit={unit.pk}"}).status_code == 302  # queued
    assert client.get(f"/admin/roster_uploads/file/{roster_upload.pk}/").status_code == 200
    actions = list(EnrolmentAuditLog.objects.order_by("pk").values_list("action", "actor__username", "row_count"))
    assert actions == [
        ("upload", "wuchuan", 2), ("confirm", "wuchuan", 1), ("agent_export", "wuchuan", 2),
        ("approve", "reviewer", 1), ("export", "reviewer", 1), ("file", "reviewer", 0),
    ]
    client.force_login(agent.user)
    client.get(f"/agents/uploads/{roster_upload.pk}/")  # confirmed: viewing it is not a preview any more
    assert not EnrolmentAuditLog.objects.filter(action=AuditAction.PREVIEW).exists()
    client.force_login(officer)
    assert EnrolmentAuditLog.objects.filter(action="export", unit=unit).exists()
    text = " ".join(f"{e.note} {e.actor_name}" for e in EnrolmentAuditLog.objects.all())
    for row in rows:
        assert row["name"] not in text and row["id_number"] not in text and row["id_number"][-6:] not in text
    listing = client.get("/admin/roster_audit/", {"unit": unit.pk}).content.decode()
    assert "确认提交名单" in listing and "整批通过" in listing and "wuchuan" in listing


def test_erase_one_member_then_the_whole_unit(client, campaign, unit, agent, django_user_model, settings,
                                              django_capture_on_commit_callbacks):
    other_unit = make_unit(name="武钢工会", serial="MC0000002")
    other_agent = make_agent(other_unit, username="wugang")
    assert client.post(campaign.url, mutual_aid_data(name="王五", id_number=VALID_ID_X)).status_code == 302
    rows = [person_row(1), person_row(2), person_row(3, mobile="bad")]
    first = confirmed_upload(client, campaign, unit, agent, rows, django_capture_on_commit_callbacks)
    confirmed_upload(client, campaign, other_unit, other_agent, [person_row(9)], django_capture_on_commit_callbacks)
    path = settings.ROSTER_DIR / first.file_path
    admin = django_user_model.objects.create_superuser("boss", "boss@example.org", "Boss-pass-2026-x")
    client.force_login(admin)
    page = client.get(f"/admin/units/erase/{unit.pk}/").content.decode()
    assert "报名 2 条" in page
    refused = client.post(f"/admin/units/erase/{unit.pk}/", {"id_number": person_id(1)})
    assert "请勾选确认删除" in refused.content.decode() and Enrolment.objects.count() == 4
    bad = client.post(f"/admin/units/erase/{unit.pk}/", {"id_number": "123", "confirm": "on"})
    assert "身份证号应为18位" in bad.content.decode()

    response = client.post(f"/admin/units/erase/{unit.pk}/", {"id_number": person_id(1), "confirm": "on"},
                           follow=True)
    assert "已删除该会员" in response.content.decode()
    assert set(Enrolment.objects.values_list("name", flat=True)) == {"王五", "职工2", "职工9"}
    assert not RosterRow.objects.filter(upload=first, row_number=2).exists()
    sheet = load_workbook(path).active
    assert all(cell.value is None for cell in sheet[2]) and sheet["A3"].value == "职工2"
    assert sheet["A1"].value == "姓名（必填）"
    entry = EnrolmentAuditLog.objects.get(action=AuditAction.ERASE_MEMBER)
    assert entry.unit == unit and entry.row_count == 1 and "职工1" not in entry.note

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/units/erase/{unit.pk}/", {"confirm": "on"})
    assert set(Enrolment.objects.values_list("name", flat=True)) == {"王五", "职工9"}
    assert not path.exists() and not RosterRow.objects.filter(upload__unit=unit).exists()
    first.refresh_from_db()
    assert first.status == RosterStatus.ERASED and first.file_path == "" and first.total_rows == 3
    assert RosterUpload.objects.get(unit=other_unit).file_path
    entry = EnrolmentAuditLog.objects.get(action=AuditAction.ERASE_UNIT)
    assert entry.actor == admin and entry.row_count == 1
    client.force_login(agent.user)
    assert client.get(f"/agents/uploads/{first.pk}/file/").status_code == 404
