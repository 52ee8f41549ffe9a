import io
import os
import stat

import pytest
from openpyxl import load_workbook

from campaigns import crypto
from campaigns.idcard import make_id_number
from campaigns.models import (
    AuditAction,
    Enrolment,
    EnrolmentAuditLog,
    EnrolmentReview,
    RosterRow,
    RosterStatus,
    RosterUpload,
    RowOutcome,
)
from campaigns.roster import CATEGORIES, CODES_SHEET, DATA_SHEET, HELP_SHEET, MAX_ROWS
from campaigns.tests import sms_hook
from campaigns.tests.collective import (
    PLAN,
    latest_upload,
    make_agent,
    make_unit,
    person_id,
    person_row,
    roster_bytes,
    roster_file,
    upload,
    upload_url,
)
from campaigns.tests.conftest import SERVICE_CARD_BLOCK, VALID_ID_X, make_campaign, mutual_aid_data


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


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent.user)
    return client


def confirm(client, roster_upload, consent=True):
    return client.post(f"/agents/uploads/{roster_upload.pk}/confirm/", {"consent": "on"} if consent else {},
                       follow=True)


def outcomes(roster_upload):
    return {row.row_number: (row.outcome, row.reason) for row in roster_upload.rows.order_by("row_number")}


def test_template_has_sheets_headers_and_validations(agent_client, campaign):
    response = agent_client.get(f"/agents/campaigns/{campaign.pk}/{campaign.form_blocks()[0].id}/template/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [DATA_SHEET, CODES_SHEET, HELP_SHEET]
    sheet = workbook[DATA_SHEET]
    assert [cell.value for cell in sheet[1]] == [
        "姓名（必填）", "身份证号（必填）", "性别（必填）", "手机号码（必填）", "人员类别（必填）", "工作单位",
        "互助方案（必填）", "份数（必填）"]
    assert sheet["B2"].number_format == "@" and sheet[f"B{MAX_ROWS + 1}"].number_format == "@"
    assert sheet["D2"].number_format == "@"
    codes = workbook[CODES_SHEET]
    assert codes.sheet_state == "hidden"

    def listed(validation):
        reference = validation.formula1.split("!")[1].replace("$", "")
        return [cell.value for (cell,) in codes[reference]]

    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert listed(validations[f"C2:C{MAX_ROWS + 1}"]) == ["男", "女"]
    assert listed(validations[f"E2:E{MAX_ROWS + 1}"]) == CATEGORIES
    assert listed(validations[f"G2:G{MAX_ROWS + 1}"]) == ["住院医疗互助（每份30元）", "特殊病种互助（每份50元）"]
    shares = validations[f"H2:H{MAX_ROWS + 1}"]
    assert (shares.type, shares.formula1, shares.formula2) == ("whole", "1", "5")
    assert all(v.showErrorMessage for v in validations.values())
    guide = " ".join(str(cell.value or "") for row in workbook[HELP_SHEET].iter_rows() for cell in row)
    assert campaign.title in guide and "最多 5000 行" in guide and "武船工会" in guide
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.TEMPLATE, campaign=campaign).count() == 1


def test_service_card_template_lists_delivery(agent_client, campaign):
    response = agent_client.get(f"/agents/campaigns/{campaign.pk}/{SERVICE_CARD_BLOCK}/template/")
    sheet = load_workbook(io.BytesIO(response.content))[DATA_SHEET]
    headers = [cell.value for cell in sheet[1]]
    assert headers[-3:] == ["会员证号", "领取方式（必填）", "邮寄地址"] and "互助方案（必填）" not in headers


def test_upload_preview_then_confirm_stores_enrolments(agent_client, campaign, unit, settings):
    rows = [person_row(n) for n in range(3)]
    response = upload(agent_client, campaign, unit, rows)
    assert response.status_code == 302
    roster_upload = latest_upload()
    assert response["Location"] == f"/agents/uploads/{roster_upload.pk}/"
    assert (roster_upload.status, roster_upload.total_rows, roster_upload.new_count) == ("previewed", 3, 3)
    assert Enrolment.objects.count() == 0  # preview stores nothing yet
    path = settings.ROSTER_DIR / roster_upload.file_path
    assert path.is_file() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not str(path).startswith(str(settings.MEDIA_ROOT))
    html = agent_client.get(response["Location"]).content.decode()
    assert "确认提交 3 条" in html and "职工1" in html and rows[1]["id_number"] not in html
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.PREVIEW, upload=roster_upload).count() == 1

    assert "请勾选确认" in confirm(agent_client, roster_upload, consent=False).content.decode()
    assert Enrolment.objects.count() == 0
    html = confirm(agent_client, roster_upload).content.decode()
    assert "名单已提交：新增 3 条" in html
    stored = list(Enrolment.objects.order_by("pk"))
    assert [e.name for e in stored] == ["职工0", "职工1", "职工2"]
    first = stored[0]
    assert first.unit == unit and first.roster_upload == roster_upload and first.branch == unit.name
    assert first.form_kind == "mutual_aid" and first.plan == PLAN and first.shares == 1 and first.consent
    assert first.member_category == "在职职工" and first.status == "pending"
    assert first.id_number == rows[0]["id_number"] and first.reference.startswith("HZ-")
    assert first.id_tail_hash
    assert set(RosterRow.objects.values_list("id_number_encrypted", flat=True)) == {""}
    assert list(roster_upload.rows.values_list("enrolment_id", flat=True)) == [e.pk for e in stored]
    roster_upload.refresh_from_db()
    assert roster_upload.status == RosterStatus.CONFIRMED and roster_upload.confirmed_at
    # confirming twice stores nothing more
    assert "不能重复提交" in confirm(agent_client, roster_upload).content.decode()
    assert Enrolment.objects.count() == 3
    # the staff listing shows them with the individual ones and filters by unit and upload
    assert {e.form_title for e in stored} == {"职工医疗互助入会登记"}


def test_each_kind_of_bad_row_is_rejected_with_row_number_and_reason(agent_client, campaign, unit):
    good = person_id(1)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    child = make_id_number("42010620150101123")
    rows = [
        person_row(1),
        person_row(2, name=""),
        person_row(3, mobile=None),
        person_row(4, id_number=bad_check, gender="男"),
        person_row(5, id_number=child, gender="男"),
        person_row(6, mobile="12345"),
        person_row(7, category="临时工"),
        person_row(8, plan="不存在的方案"),
        person_row(9, shares=9),
        person_row(10, gender="女" if int(person_id(10)[16]) % 2 else "男"),
        person_row(11, id_number=float(person_id(11)[:17] + "1")),
        person_row(12, id_number=good),
        person_row(13, gender="未知"),
    ]
    assert upload(agent_client, campaign, unit, rows).status_code == 302
    roster_upload = latest_upload()
    found = outcomes(roster_upload)
    expected = {
        3: "缺少“姓名”",
        4: "缺少“手机号码”",
        5: "身份证号校验位不正确",
        6: "根据身份证号，年龄须在16至70周岁之间",
        7: "手机号码应为11位大陆手机号码",
        8: "“人员类别”的值“临时工”不在可选范围内",
        9: "“互助方案”的值“不存在的方案”不在可选范围内",
        10: "份数应为1至5之间的整数",
        11: "与身份证号不符",
        12: "身份证号被 Excel 存成了数字",
        13: "与第2行的身份证号重复",
        14: "“性别”的值“未知”不在可选范围内",
    }
    assert found[2] == (RowOutcome.NEW, "")
    for number, reason in expected.items():
        assert found[number][0] == RowOutcome.REJECTED, number
        assert reason in found[number][1], (number, found[number][1])
    assert (roster_upload.new_count, roster_upload.rejected_count) == (1, 12)
    html = agent_client.get(f"/agents/uploads/{roster_upload.pk}/?outcome=rejected").content.decode()
    assert "与第2行的身份证号重复" in html and "<td>13</td>" in html
    confirm(agent_client, roster_upload)
    assert Enrolment.objects.count() == 1


def test_full_width_overlap_with_individual_enrolments_and_a_conflict(agent_client, client, campaign, unit):
    # two members enrolled themselves on the campaign page
    assert client.post(campaign.url, mutual_aid_data(name="职工X", id_number=VALID_ID_X)).status_code == 302
    assert client.post(campaign.url, mutual_aid_data(name="张三", id_number=person_id(2),
                                                     mobile="13900000002")).status_code == 302
    individual = Enrolment.objects.get(name="张三")
    full_width = VALID_ID_X[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "x"
    rows = [person_row(1), person_row(0, name="职工X", id_number=full_width, gender="女"),
            person_row(2, name="李四"), person_row(3)]
    assert upload(agent_client, campaign, unit, rows).status_code == 302
    roster_upload = latest_upload()
    found = outcomes(roster_upload)
    assert found[2][0] == RowOutcome.NEW and found[5][0] == RowOutcome.NEW
    assert found[3][0] == RowOutcome.ENROLLED and "本人已在网上报名" in found[3][1]
    assert found[4][0] == RowOutcome.CONFLICT and individual.reference in found[4][1]
    html = agent_client.get(f"/agents/uploads/{roster_upload.pk}/").content.decode()
    assert "待核实（另一姓名已报名）" in html and "已报名（跳过）" in html and "确认提交 3 条" in html
    confirm(agent_client, roster_upload)
    assert Enrolment.objects.count() == 5
    individual.refresh_from_db()
    assert individual.name == "张三" and individual.unit is None and individual.mobile == "13900000002"
    assert individual.status == "pending" and individual.conflict_of is None
    # the other name is kept as 待核实 beside the first enrolment, never instead of it
    conflict = Enrolment.objects.get(name="李四")
    assert (conflict.status, conflict.conflict_of, conflict.unit) == ("conflict", individual, unit)
    assert conflict.get_status_display() == "待核实"
    assert Enrolment.objects.filter(id_number_hash=crypto.lookup_hash(person_id(2))).count() == 2
    assert Enrolment.objects.filter(unit=unit).count() == 3
    # a corrected re-upload updates this unit's 待核实 row instead of adding another
    rows[2]["mobile"] = "13600000002"
    upload(agent_client, campaign, unit, rows)
    again = latest_upload()
    assert outcomes(again)[4][0] == RowOutcome.UPDATE
    confirm(agent_client, again)
    conflict.refresh_from_db()
    assert conflict.mobile == "13600000002" and conflict.status == "conflict"
    assert Enrolment.objects.count() == 5


def test_reupload_of_corrected_file_updates_instead_of_duplicating(agent_client, campaign, unit, agent):
    rows = [person_row(n) for n in range(3)]
    upload(agent_client, campaign, unit, rows)
    first = latest_upload()
    confirm(agent_client, first)
    returned = Enrolment.objects.get(name="职工1")
    returned.status, returned.review_reason = "returned", "手机号码有误"
    returned.save()
    rows[1]["mobile"] = "13700000001"
    rows.append(person_row(3))
    upload(agent_client, campaign, unit, rows)
    second = latest_upload()
    found = outcomes(second)
    assert [found[n][0] for n in (2, 3, 4, 5)] == ["update", "update", "update", "new"]
    confirm(agent_client, second)
    assert Enrolment.objects.count() == 4
    returned.refresh_from_db()
    assert returned.mobile == "13700000001" and returned.status == "pending" and returned.review_reason == ""
    assert returned.roster_upload == second
    review = EnrolmentReview.objects.get(enrolment=returned)
    assert (review.from_status, review.to_status, review.user) == ("returned", "pending", agent.user)


def test_a_failure_midway_stores_nothing(agent_client, campaign, unit):
    rows = [person_row(n) for n in range(600)]
    upload(agent_client, campaign, unit, rows)
    roster_upload = latest_upload()
    assert roster_upload.new_count == 600
    # a later row breaks a real database constraint (份数 is a positive integer column) in the second batch
    row = RosterRow.objects.get(upload=roster_upload, row_number=560)
    row.data = row.data | {"shares": -1}
    row.save()
    html = confirm(agent_client, roster_upload).content.decode()
    assert "提交未成功，名单中的内容都没有保存" in html
    assert Enrolment.objects.count() == 0
    roster_upload.refresh_from_db()
    assert roster_upload.status == RosterStatus.PREVIEWED and roster_upload.confirmed_at is None
    assert RosterRow.objects.filter(upload=roster_upload, enrolment__isnull=False).count() == 0
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.CONFIRM_FAILED, upload=roster_upload).exists()
    assert sms_hook.calls == []


def test_preview_is_paginated_50_rows(agent_client, campaign, unit):
    upload(agent_client, campaign, unit, [person_row(n) for n in range(120)])
    roster_upload = latest_upload()
    html = agent_client.get(f"/agents/uploads/{roster_upload.pk}/?page=2").content.decode()
    assert "第 2 / 3 页" in html
    assert "<td>52</td>" in html and "<td>101</td>" in html and "<td>51</td>" not in html
    assert "<td>102</td>" not in html


def test_more_than_5000_rows_is_refused_whole(agent_client, campaign, unit, settings):
    rows = [person_row(n) for n in range(MAX_ROWS + 1)]
    response = upload(agent_client, campaign, unit, rows)
    assert response.status_code == 400
    html = response.content.decode()
    assert "名单超过 5000 行" in html and "5002" in html and "请拆分" in html
    assert RosterUpload.objects.count() == 0 and RosterRow.objects.count() == 0
    assert not any(path.is_file() for path in settings.ROSTER_DIR.rglob("*"))
    assert EnrolmentAuditLog.objects.filter(action=AuditAction.UPLOAD_REFUSED).count() == 1


def test_exactly_5000_rows_are_accepted(agent_client, campaign, unit):
    response = upload(agent_client, campaign, unit, [person_row(n) for n in range(MAX_ROWS)])
    assert response.status_code == 302
    assert latest_upload().new_count == MAX_ROWS


def test_unusable_files_get_a_chinese_message_and_change_nothing(agent_client, campaign, campaign_index, unit):
    url = upload_url(campaign)
    cases = [
        (roster_file(b"not a spreadsheet"), "文件无法读取"),
        (roster_file(b"a,b\n", name="名单.csv"), "请上传 .xlsx"),
        (roster_file(roster_bytes(campaign, unit, [])), "文件中没有名单"),
    ]
    other = make_campaign(campaign_index, slug="other", title="另一个活动")
    cases.append((roster_file(roster_bytes(other, unit, [person_row(1)])), "其他活动或表单的模板"))
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["姓名", "手机"])
    workbook.active.append(["张三", "13812345678"])
    handle = io.BytesIO()
    workbook.save(handle)
    cases.append((roster_file(handle.getvalue()), "第1行表头缺少列"))
    for uploaded, message in cases:
        response = agent_client.post(url, {"roster": uploaded})
        assert response.status_code == 400 and message in response.content.decode(), message
    assert agent_client.post(url, {}).status_code == 400
    assert RosterUpload.objects.count() == 0 and Enrolment.objects.count() == 0


def test_closed_form_refuses_uploads(agent_client, campaign_index, unit):
    import datetime

    from django.utils import timezone

    ended = make_campaign(campaign_index, slug="ended", start=timezone.localdate() - datetime.timedelta(days=30),
                          end=timezone.localdate() - datetime.timedelta(days=1))
    response = upload(agent_client, ended, unit, [person_row(1)])
    assert response.status_code == 403 and "本活动已结束" in response.content.decode()
    assert RosterUpload.objects.count() == 0


def test_cancel_deletes_file_and_staged_rows(agent_client, campaign, unit, settings):
    upload(agent_client, campaign, unit, [person_row(1)])
    roster_upload = latest_upload()
    path = settings.ROSTER_DIR / roster_upload.file_path
    response = agent_client.post(f"/agents/uploads/{roster_upload.pk}/cancel/", follow=True)
    assert "已取消这份名单" in response.content.decode()
    roster_upload.refresh_from_db()
    assert roster_upload.status == RosterStatus.CANCELLED and not path.exists()
    assert roster_upload.rows.count() == 0
    assert "不能重复提交" in confirm(agent_client, roster_upload).content.decode()
    assert Enrolment.objects.count() == 0


def test_unconfirmed_previews_are_purged(agent_client, campaign, unit, settings):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    upload(agent_client, campaign, unit, [person_row(1)])
    stale = latest_upload()
    RosterUpload.objects.filter(pk=stale.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    path = settings.ROSTER_DIR / stale.file_path
    upload(agent_client, campaign, unit, [person_row(2)])
    fresh = latest_upload()
    call_command("purge_roster_previews", stdout=io.StringIO())
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RosterStatus.CANCELLED and stale.rows.count() == 0 and not path.exists()
    assert fresh.status == RosterStatus.PREVIEWED and fresh.rows.count() == 1


def test_member_of_the_other_form_is_not_overwritten(agent_client, campaign, unit):
    upload(agent_client, campaign, unit, [person_row(1)])
    confirm(agent_client, latest_upload())
    card_row = person_row(1, delivery="到所属工会自取")
    assert upload(agent_client, campaign, unit, [card_row], block_id=SERVICE_CARD_BLOCK).status_code == 302
    found = outcomes(latest_upload())
    assert found[2][0] == RowOutcome.ENROLLED and "职工医疗互助入会登记" in found[2][1]
    confirm(agent_client, latest_upload())
    enrolment = Enrolment.objects.get()
    assert enrolment.form_kind == "mutual_aid" and enrolment.plan == PLAN


def test_service_card_roster(agent_client, campaign, unit):
    rows = [person_row(1, delivery="邮寄到家", address="武汉市江岸区解放大道1号", membership_number="WH-1"),
            person_row(2, delivery="邮寄到家"), person_row(3, delivery="到所属工会自取")]
    upload(agent_client, campaign, unit, rows, block_id=SERVICE_CARD_BLOCK)
    roster_upload = latest_upload()
    found = outcomes(roster_upload)
    assert found[3] == (RowOutcome.REJECTED, "选择“邮寄到家”时须填写邮寄地址")
    confirm(agent_client, roster_upload)
    stored = {e.name: e for e in Enrolment.objects.all()}
    assert stored["职工1"].form_kind == "service_card" and stored["职工1"].reference.startswith("FWK-")
    assert (stored["职工1"].delivery, stored["职工1"].address) == ("delivery", "武汉市江岸区解放大道1号")
    assert stored["职工1"].membership_number == "WH-1" and stored["职工1"].plan == ""
    assert (stored["职工3"].delivery, stored["职工3"].address) == ("pickup", "")
