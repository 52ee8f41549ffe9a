import datetime
import io
import os
import re
import time

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from core.models import BackgroundJob
from core.tests.worker import run_worker
from merchants import admin_views
from merchants.importing import HEADINGS, plan_import
from merchants.models import Merchant

from .helpers import GOOD_ROWS, csv_bytes, xlsx_bytes

LIST_URL = "/admin/snippets/merchants/merchant/"
IMPORT_URL = "/admin/merchants/import/"


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def editor(django_user_model, db):
    user = django_user_model.objects.create_user("editor", password="pass-word-123")
    user.groups.add(Group.objects.get(name="编辑"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def test_listing_marks_expired_and_inactive(admin_client, sample_merchants):
    html = admin_client.get(LIST_URL).content.decode()
    assert "重庆老火锅" in html and "过期火锅店" in html and "停用超市" in html
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*过期火锅店.*?</tr>", html, re.S).group(0)
    assert "已过期" in row
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*停用超市.*?</tr>", html, re.S).group(0)
    assert "已停用" in row
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*重庆老火锅.*?</tr>", html, re.S).group(0)
    assert "有效" in row and "已过期" not in row


def test_listing_filters_by_status(admin_client, sample_merchants):
    html = admin_client.get(LIST_URL, {"status": "expired"}).content.decode()
    assert "过期火锅店" in html and "重庆老火锅" not in html
    html = admin_client.get(LIST_URL, {"status": "valid"}).content.decode()
    assert "重庆老火锅" in html and "过期火锅店" not in html and "停用超市" not in html


def test_editor_can_add_merchant_through_admin(editor_client, categories):
    response = editor_client.post(f"{LIST_URL}add/", {
        "name": "后台新增商户", "category": categories["文体"].pk, "district": "渝北区", "address": "新南路1号",
        "phone": "023-67891234", "opening_hours": "", "discount": "持卡8折", "valid_from": "2025-01-01",
        "valid_to": "2024-01-01", "active": "on",
    })
    assert response.status_code == 200 and "有效期结束日期不能早于开始日期" in response.content.decode()
    response = editor_client.post(f"{LIST_URL}add/", {
        "name": "后台新增商户", "category": categories["文体"].pk, "district": "渝北区", "address": "新南路1号",
        "phone": "电话", "discount": "持卡8折", "active": "on",
    })
    assert "电话号码格式不正确" in response.content.decode()
    response = editor_client.post(f"{LIST_URL}add/", {
        "name": "后台新增商户", "category": categories["文体"].pk, "district": "渝北区", "address": "新南路1号",
        "phone": "023-67891234", "discount": "持卡8折", "active": "on",
    })
    assert response.status_code == 302
    assert Merchant.objects.get(name="后台新增商户").sort_key.startswith("hou4")


def test_import_upload_preview_confirm(task_queue, editor_client, categories):
    page = editor_client.get(IMPORT_URL).content.decode()
    assert "下载 Excel 模板" in page and "上传并预览" in page
    upload = SimpleUploadedFile("商户.xlsx", xlsx_bytes(GOOD_ROWS))
    preview = editor_client.post(IMPORT_URL, {"file": upload}).content.decode()
    assert "共 3 行，新建 3 家" in preview and "确认导入" in preview
    assert Merchant.objects.count() == 0  # nothing written before confirming
    token = re.search(r'name="token" value="([0-9a-f]{32})"', preview).group(1)
    response = editor_client.post(IMPORT_URL, {"token": token, "filename": "商户.xlsx"})
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{IMPORT_URL}{job.pk}/"
    assert Merchant.objects.count() == 0  # the worker writes
    # stale unconfirmed previews are cleaned up, the file of a waiting import is not
    stale = admin_views.upload_dir() / "1-0123456789abcdef0123456789abcdef.csv"
    stale.write_bytes(b"x")
    waiting = admin_views.upload_dir() / job.params["file"]
    for path in (stale, waiting):
        os.utime(path, (time.time() - 3 * 86400,) * 2)
    editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("again.xlsx", xlsx_bytes(GOOD_ROWS))})
    assert not stale.exists() and waiting.exists()
    run_worker()
    assert Merchant.objects.count() == 3 and not waiting.exists()
    page = editor_client.get(response["Location"]).content.decode()
    assert "导入完成" in page and "新建 3 家" in page
    # the stored upload is used once: confirming again shows the same job
    again = editor_client.post(IMPORT_URL, {"token": token, "filename": "商户.xlsx"})
    assert again["Location"] == response["Location"] and BackgroundJob.objects.count() == 1
    run_worker()
    assert Merchant.objects.count() == 3


def test_import_preview_of_update_and_reject(editor_client, categories):
    plan_import(csv_bytes(GOOD_ROWS), "a.csv").apply()
    rows = [list(GOOD_ROWS[0]), GOOD_ROWS[1], ["", "餐饮", "", "", "", "", "9折", "", "", ""]]
    rows[0][5] = "10:00-22:00"
    upload = SimpleUploadedFile("bad.csv", csv_bytes(rows, "gbk"))
    preview = editor_client.post(IMPORT_URL, {"file": upload}).content.decode()
    assert "更新 1 家" in preview and "无变化 1 家" in preview and "拒绝 1 行" in preview
    assert "变更：营业时间" in preview and "缺少商户名称" in preview and "<td>4</td>" in preview
    assert "未导入任何数据" in preview and "确认导入" not in preview
    assert Merchant.objects.get(name="重庆老火锅").opening_hours == "11:00-23:00"


def test_import_refuses_unreadable_file(editor_client, categories):
    response = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("x.csv", "名字\n张三\n".encode())})
    assert response.status_code == 200 and "缺少表头" in response.content.decode()
    response = editor_client.post(IMPORT_URL, {"file": SimpleUploadedFile("x.doc", b"abc")})
    assert "只支持 .xlsx 或 .csv 文件" in response.content.decode()
    response = editor_client.post(IMPORT_URL, {"token": "../../etc/passwd", "filename": "x.csv"}, follow=True)
    assert "导入已过期" in response.content.decode()


def test_template_downloads(editor_client, categories):
    response = editor_client.get("/admin/merchants/template.xlsx")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook["商户"][1]] == HEADINGS
    notes = " ".join(row[0].value for row in workbook["填写说明"].iter_rows())
    assert "教育培训" in notes and "GBK" in notes
    response = editor_client.get("/admin/merchants/template.csv")
    assert response.content.decode("utf-8-sig").strip() == ",".join(HEADINGS)


def test_export_from_admin_round_trips(editor_client, make_merchant, today):
    make_merchant("重庆老火锅", valid_to=today + datetime.timedelta(days=30))
    make_merchant("过期店", valid_to=today - datetime.timedelta(days=30))
    for fmt in ("xlsx", "csv"):
        response = editor_client.get(f"/admin/merchants/export.{fmt}")
        assert response.status_code == 200
        plan = plan_import(response.content, f"export.{fmt}")
        assert [row.action for row in plan.rows] == ["unchanged", "unchanged"]
    listing = editor_client.get(LIST_URL).content.decode()
    assert "/admin/merchants/import/" in listing and "/admin/merchants/export.xlsx" in listing


def test_export_escapes_formulas_and_keeps_phones_as_text(editor_client, make_merchant, today):
    """A name like =HYPERLINK(…) used to come back as a live formula; the shared writer escapes it."""
    make_merchant("=HYPERLINK(\"http://evil.example\",\"优惠\")", phone="13812345678", discount="+10元代金券")
    response = editor_client.get("/admin/merchants/export.xlsx")
    sheet = load_workbook(io.BytesIO(response.content))["商户"]
    name, phone, discount = sheet["A2"], sheet["E2"], sheet["G2"]
    assert name.data_type == "s" and name.value == "'=HYPERLINK(\"http://evil.example\",\"优惠\")"
    assert discount.value == "'+10元代金券"
    assert phone.data_type == "s" and phone.value == "13812345678" and phone.number_format == "@"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet.freeze_panes == "A2"
    text = editor_client.get("/admin/merchants/export.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\t13812345678" in text and "'+10元代金券" in text
    for fmt, data in (("xlsx", response.content), ("csv", text.encode("utf-8-sig"))):
        plan = plan_import(data, f"export.{fmt}")  # the escape is undone on import: nothing changes
        assert [row.action for row in plan.rows] == ["unchanged"], fmt


def test_import_needs_permission(client, django_user_model, db):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("reader", password="pass-word-123")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code in (302, 403)
    assert client.get("/admin/merchants/template.xlsx").status_code in (302, 403)
    assert client.get("/admin/merchants/export.csv").status_code in (302, 403)
    assert client.post(IMPORT_URL, {"file": SimpleUploadedFile("a.csv", csv_bytes(GOOD_ROWS))}).status_code in (
        302, 403)
    assert Merchant.objects.count() == 0


def test_moderators_manage_categories(db):
    from django.contrib.auth.models import Permission

    moderators = Group.objects.get(name="审核")
    codes = set(moderators.permissions.filter(content_type__app_label="merchants").values_list("codename", flat=True))
    assert {"add_category", "delete_merchant", "change_merchant"} <= codes
    editors = set(Group.objects.get(name="编辑").permissions.values_list("codename", flat=True))
    assert "add_merchant" in editors and "delete_merchant" not in editors
    assert Permission.objects.filter(codename="add_merchant").exists()
